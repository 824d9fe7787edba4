import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantRoute } from '../auth/auth.decorators';
import { Page } from '../common/pagination';
import { RecoverDto } from '../endpoints/dto/endpoint.dto';
import { Tenant } from '../tenants/tenant.entity';
import { DeliveriesService, deliveryView } from './deliveries.service';
import { EndpointStatsService } from './endpoint-stats.service';
import { AttemptView, DeliveryQuery, DeliveryView, RecoverView } from './dto/delivery.dto';
import { EndpointStatsView } from './dto/endpoint-stats.dto';

@ApiTags('deliveries')
@Controller('v1/tenants/:tenantId')
export class DeliveriesController {
  constructor(
    private readonly deliveries: DeliveriesService,
    private readonly stats: EndpointStatsService,
  ) {}

  @Get('deliveries')
  @TenantRoute()
  list(@CurrentTenant() tenant: Tenant, @Query() query: DeliveryQuery): Promise<Page<DeliveryView>> {
    return this.deliveries.list(tenant, query);
  }

  @Get('deliveries/:deliveryId')
  @TenantRoute()
  async get(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<DeliveryView> {
    return deliveryView(await this.deliveries.get(tenant, id));
  }

  @Get('deliveries/:deliveryId/attempts')
  @TenantRoute()
  attempts(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<{ data: AttemptView[] }> {
    return this.deliveries.attemptsOf(tenant, id);
  }

  @Post('deliveries/:deliveryId/resend')
  @TenantRoute()
  @HttpCode(202)
  resend(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<DeliveryView> {
    return this.deliveries.resend(tenant, id);
  }

  @Post('endpoints/:endpointId/recover')
  @TenantRoute()
  @HttpCode(202)
  recover(@CurrentTenant() tenant: Tenant, @Param('endpointId') endpointId: string, @Body() dto: RecoverDto): Promise<RecoverView> {
    return this.deliveries.recover(tenant, endpointId, dto);
  }

  /** Deliveries by status, attempt success rate and latency (last hour, last day), circuit state, rate-limit backlog. */
  @Get('endpoints/:endpointId/stats')
  @TenantRoute()
  endpointStats(@CurrentTenant() tenant: Tenant, @Param('endpointId') endpointId: string): Promise<EndpointStatsView> {
    return this.stats.stats(tenant, endpointId);
  }
}
