import { Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiErrors } from '../common/api-docs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { Tenant } from '../tenants/tenant.entity';
import { AdminOnly, CurrentTenant } from '../access/access.decorators';
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

  /** Admin only: the key stops working at once on every API process. */
  @Delete(':keyId')
  @AdminOnly()
  @ApiParam({ name: 'tenantId', description: 'the tenant id (tnt_…) or its uid' })
  @HttpCode(204)
  revoke(@CurrentTenant() tenant: Tenant, @Param('keyId') keyId: string): Promise<void> {
    return this.keys.revoke(tenant, keyId);
  }
}
