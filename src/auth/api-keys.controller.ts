import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiErrors } from '../common/api-docs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { Tenant } from '../tenants/tenant.entity';
import { AdminOnly, CurrentTenant } from './auth.decorators';
import { ApiKeysService } from './api-keys.service';

@ApiTags('tenants')
@ApiErrors()
@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /** Admin only; the key is shown once. */
  @Post()
  @AdminOnly()
  @ApiParam({ name: 'tenantId', description: 'the tenant id (tnt_…) or its uid' })
  @HttpCode(201)
  create(@CurrentTenant() tenant: Tenant) {
    return this.keys.create(tenant);
  }
}
