import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { Page } from '../common/pagination';
import { RecoverDto } from '../endpoints/dto/endpoint.dto';
import { Tenant } from '../tenants/tenant.entity';
import { DeliveriesService } from './deliveries.service';
import { EndpointStatsService } from './endpoint-stats.service';
import { AttemptView, DeliveryQuery, DeliveryView, RecoverView } from './dto/delivery.dto';
import { EndpointStatsWithSeriesView, StatsQuery, TenantStatsView } from './dto/endpoint-stats.dto';
import { AttemptRequestView, BULK_RESEND_MAX, BulkResendDto, BulkResendView, SendExampleDto, SentExampleView } from './dto/delivery-actions.dto';
import { DeliveryActionsService } from './delivery-actions.service';
import { EndpointScope } from '../portal/endpoint-scope.decorator';
import { ApiPage } from '../common/api-page';

@ApiTags('deliveries')
@ApiErrors()
@Controller('v1/tenants/:tenantId')
export class DeliveriesController {
  constructor(
    private readonly deliveries: DeliveriesService,
    private readonly stats: EndpointStatsService,
    private readonly actions: DeliveryActionsService,
  ) {}

  @Get('deliveries')
  @TenantRoute()
  @Capability('read')
  @ApiPage(DeliveryView)
  list(@CurrentTenant() tenant: Tenant, @Query() query: DeliveryQuery, @EndpointScope() scope?: string[]): Promise<Page<DeliveryView>> {
    return this.deliveries.list(tenant, query, scope);
  }

  // Declared before deliveries/:deliveryId/… so "resend" is never read as a delivery id.
  @Post('deliveries/resend')
  @TenantRoute()
  @Capability('resend')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Bulk resend: a fresh manual attempt now for every delivery matching the filter',
    description: `At most ${BULK_RESEND_MAX} deliveries per request, oldest first; \`more\` says others matched (send the request again: resent ones no longer match \`status=dead\`). Deliveries of deleted endpoints are skipped.`,
  })
  @ApiResponse({ status: 202, type: BulkResendView })
  bulkResend(@CurrentTenant() tenant: Tenant, @Body() dto: BulkResendDto, @EndpointScope() scope?: string[]): Promise<BulkResendView> {
    return this.actions.bulkResend(tenant, dto, scope);
  }

  @Get('deliveries/:deliveryId')
  @TenantRoute()
  @Capability('read')
  @ApiResponse({ status: 200, type: DeliveryView })
  async get(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<DeliveryView> {
    return this.deliveries.view(tenant, id);
  }

  @Get('deliveries/:deliveryId/attempts')
  @TenantRoute()
  @Capability('read')
  @ApiPage(AttemptView, { cursor: false })
  attempts(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<{ data: AttemptView[] }> {
    return this.deliveries.attemptsOf(tenant, id);
  }

  @Get('deliveries/:deliveryId/attempts/:attemptId/request')
  @TenantRoute()
  @Capability('read')
  @ApiOperation({
    summary: 'The request an attempt sent: URL, headers (signature included, secrets never) and body',
    description: "Rebuilt from the stored event with the endpoint's current headers; webhook-signature is recomputed with the secrets that signed at the attempt's time and still exist.",
  })
  @ApiResponse({ status: 200, type: AttemptRequestView })
  attemptRequest(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string, @Param('attemptId') attemptId: string): Promise<AttemptRequestView> {
    return this.actions.attemptRequest(tenant, id, attemptId);
  }

  @Post('deliveries/:deliveryId/resend')
  @TenantRoute()
  @Capability('resend')
  @HttpCode(202)
  resend(@CurrentTenant() tenant: Tenant, @Param('deliveryId') id: string): Promise<DeliveryView> {
    return this.deliveries.resend(tenant, id);
  }

  @Post('endpoints/:endpointId/recover')
  @TenantRoute()
  @Capability('resend')
  @HttpCode(202)
  @ApiResponse({ status: 202, type: RecoverView })
  recover(@CurrentTenant() tenant: Tenant, @Param('endpointId') endpointId: string, @Body() dto: RecoverDto): Promise<RecoverView> {
    return this.deliveries.recover(tenant, endpointId, dto);
  }

  /** Deliveries by status, attempt success rate and latency (last hour, last day), circuit state, rate-limit backlog. */
  @Get('endpoints/:endpointId/stats')
  @TenantRoute()
  @Capability('read')
  @ApiOperation({ summary: "An endpoint's health; with ?window=24h&step=1h also a time series from PostgreSQL (deliveries by outcome, p50/p99 attempt latency per step)" })
  @ApiResponse({ status: 200, type: EndpointStatsWithSeriesView })
  endpointStats(@CurrentTenant() tenant: Tenant, @Param('endpointId') endpointId: string, @Query() query: StatsQuery): Promise<EndpointStatsWithSeriesView> {
    return this.stats.stats(tenant, endpointId, query);
  }

  @Get('stats')
  @TenantRoute()
  @Capability('read')
  @ApiOperation({ summary: "The tenant's time series over all its endpoints (default window=24h, step=1h)" })
  @ApiResponse({ status: 200, type: TenantStatsView })
  tenantStats(@CurrentTenant() tenant: Tenant, @Query() query: StatsQuery, @EndpointScope() scope?: string[]): Promise<TenantStatsView> {
    return this.stats.tenantStats(tenant, query, scope);
  }

  @Post('endpoints/:endpointId/send-example')
  @TenantRoute()
  @Capability('manage-endpoints')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a test event to this endpoint only',
    description: 'Stores an event (default type herald.test, a small example payload) with one delivery, to this endpoint alone, through the same pipeline: signed, retried, logged. A disabled endpoint answers 409.',
  })
  @ApiResponse({ status: 202, type: SentExampleView })
  sendExample(@CurrentTenant() tenant: Tenant, @Param('endpointId') endpointId: string, @Body() dto: SendExampleDto): Promise<SentExampleView> {
    return this.actions.sendExample(tenant, endpointId, dto);
  }
}
