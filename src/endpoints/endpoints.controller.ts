import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiErrors } from '../common/api-docs';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { Page, PageQuery } from '../common/pagination';
import { EndpointScope } from '../portal/endpoint-scope.decorator';
import { Tenant } from '../tenants/tenant.entity';
import { CreateEndpointDto, EndpointSecretView, EndpointView, EndpointWithSecretView, EventSampleDto, FilterTestView, TransformationTestDto, TransformationTestView, UpdateEndpointDto } from './dto/endpoint.dto';
import { EndpointsService, endpointView } from './endpoints.service';
import { ApiPage } from '../common/api-page';

@ApiTags('endpoints')
@ApiErrors()
@Controller('v1/tenants/:tenantId/endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Post()
  @TenantRoute()
  @Capability('manage-endpoints', { wholeTenant: true })
  @ApiResponse({ status: 201, type: EndpointWithSecretView, description: 'includes the secret' })
  @HttpCode(201)
  create(@CurrentTenant() tenant: Tenant, @Body() dto: CreateEndpointDto): Promise<EndpointWithSecretView> {
    return this.endpoints.create(tenant, dto);
  }

  @Get()
  @TenantRoute()
  @Capability('read')
  @ApiPage(EndpointView)
  list(@CurrentTenant() tenant: Tenant, @Query() query: PageQuery, @EndpointScope() scope?: string[]): Promise<Page<EndpointView>> {
    return this.endpoints.list(tenant, query, scope);
  }

  @Get(':endpointId')
  @ApiResponse({ status: 200, type: EndpointView })
  @TenantRoute()
  @Capability('read')
  async get(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string): Promise<EndpointView> {
    return endpointView(await this.endpoints.get(tenant, id));
  }

  @Patch(':endpointId')
  @ApiResponse({ status: 200, type: EndpointView })
  @TenantRoute()
  @Capability('manage-endpoints')
  update(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string, @Body() dto: UpdateEndpointDto): Promise<EndpointView> {
    return this.endpoints.update(tenant, id, dto);
  }

  @Delete(':endpointId')
  @TenantRoute()
  @Capability('manage-endpoints')
  @HttpCode(204)
  remove(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string): Promise<void> {
    return this.endpoints.remove(tenant, id);
  }

  @Get(':endpointId/secret')
  @TenantRoute()
  @Capability('view-secrets')
  @ApiResponse({ status: 200, type: EndpointSecretView })
  secret(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string): Promise<EndpointSecretView> {
    return this.endpoints.secret(tenant, id);
  }

  @Post(':endpointId/secret/rotate')
  @TenantRoute()
  @Capability('rotate-secrets')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: EndpointSecretView })
  rotate(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string): Promise<EndpointSecretView> {
    return this.endpoints.rotate(tenant, id);
  }

  @Post(':endpointId/filter/test')
  @TenantRoute()
  @Capability('read')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: FilterTestView, description: "whether the endpoint's filter holds for this event, and which clause fails if not" })
  testFilter(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string, @Body() sample: EventSampleDto): Promise<FilterTestView> {
    return this.endpoints.testFilter(tenant, id, sample);
  }

  @Post(':endpointId/transformation/test')
  @TenantRoute()
  @Capability('read')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: TransformationTestView, description: 'the body the endpoint would receive for this event, or why the transformation fails' })
  testTransformation(@CurrentTenant() tenant: Tenant, @Param('endpointId') id: string, @Body() sample: TransformationTestDto): Promise<TransformationTestView> {
    return this.endpoints.testTransformation(tenant, id, sample);
  }
}
