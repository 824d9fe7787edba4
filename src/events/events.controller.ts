import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiErrors, ErrorView } from '../common/api-docs';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { Page } from '../common/pagination';
import { EndpointScope } from '../portal/endpoint-scope.decorator';
import { Tenant } from '../tenants/tenant.entity';
import { EventQuery, EventView, EventWithPayloadView, PublishBatchDto, PublishEventDto, PublishedBatchView, PublishedEventView } from './dto/event.dto';
import { EventsService } from './events.service';
// The publish bodies are checked without class-validator's metadata walk when they are plainly valid.
import './dto/publish-check';
import { ApiPage } from '../common/api-page';

@ApiTags('events')
@ApiErrors()
@Controller('v1/tenants/:tenantId/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /** 202: the event and its deliveries are durable in PostgreSQL. */
  @Post()
  @TenantRoute()
  @Capability('never')
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiResponse({ status: 202, type: PublishedEventView, description: 'the event and its deliveries are durable in PostgreSQL' })
  @ApiResponse({ status: 413, type: ErrorView, description: 'payload larger than HERALD_MAX_PAYLOAD_BYTES' })
  @ApiResponse({ status: 429, type: ErrorView, description: 'above the tenant\'s publishRateLimitPerSecond; see Retry-After' })
  publish(@CurrentTenant() tenant: Tenant, @Body() dto: PublishEventDto, @Headers('idempotency-key') key?: string): Promise<PublishedEventView> {
    return this.events.publishOne(tenant, dto, key);
  }

  @Post('batch')
  @TenantRoute()
  @Capability('never')
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'each event without its own key gets "<header>:<index>"' })
  async publishBatch(@CurrentTenant() tenant: Tenant, @Body() dto: PublishBatchDto, @Headers('idempotency-key') key?: string): Promise<PublishedBatchView> {
    return { data: await this.events.publishBatch(tenant, dto.events, key) };
  }

  @Get()
  @TenantRoute()
  @Capability('read')
  @ApiPage(EventView)
  list(@CurrentTenant() tenant: Tenant, @Query() query: EventQuery, @EndpointScope() scope?: string[]): Promise<Page<EventView>> {
    return this.events.list(tenant, query, scope);
  }

  @Get(':eventId')
  @TenantRoute()
  @Capability('read')
  @ApiResponse({ status: 200, type: EventWithPayloadView })
  get(@CurrentTenant() tenant: Tenant, @Param('eventId') id: string): Promise<EventWithPayloadView> {
    return this.events.get(tenant, id);
  }
}
