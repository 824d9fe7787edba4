import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiErrors } from '../common/api-docs';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly, Capability, CurrentPrincipal, CurrentTenant, Principal, TenantRoute } from '../access/access.decorators';
import { Page, PageQuery } from '../common/pagination';
import { CreateTenantDto, TenantView, UpdateTenantDto } from './dto/tenant.dto';
import { Tenant } from './tenant.entity';
import { TenantsService } from './tenants.service';
import { ApiPage } from '../common/api-page';

@ApiTags('tenants')
@ApiErrors()
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @AdminOnly()
  @ApiResponse({ status: 201, type: TenantView })
  @HttpCode(201)
  create(@Body() dto: CreateTenantDto): Promise<TenantView> {
    return this.tenants.create(dto);
  }

  @Get()
  @AdminOnly()
  @ApiPage(TenantView)
  list(@Query() query: PageQuery): Promise<Page<TenantView>> {
    return this.tenants.list(query);
  }

  @Get(':tenantId')
  @ApiResponse({ status: 200, type: TenantView })
  @TenantRoute()
  @Capability('read')
  get(@CurrentTenant() tenant: Tenant): TenantView {
    return TenantView.of(tenant);
  }

  /** uid, publishRateLimitPerSecond and metadata are the producer's: a tenant key that sets them gets 403 naming them. */
  @Patch(':tenantId')
  @ApiResponse({ status: 200, type: TenantView })
  @TenantRoute()
  @Capability('never')
  update(@CurrentTenant() tenant: Tenant, @CurrentPrincipal() principal: Principal, @Body() dto: UpdateTenantDto): Promise<TenantView> {
    return this.tenants.update(tenant, dto, principal.kind === 'admin');
  }

  @Delete(':tenantId')
  @TenantRoute()
  @Capability('never')
  @HttpCode(204)
  remove(@CurrentTenant() tenant: Tenant): Promise<void> {
    return this.tenants.remove(tenant);
  }
}
