import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiErrors, ErrorView } from '../common/api-docs';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantRoute } from '../auth/auth.decorators';
import { Page } from '../common/pagination';
import { Tenant } from '../tenants/tenant.entity';
import { EventQuery, EventView, EventWithPayloadView, PublishBatchDto, PublishEventDto, PublishedBatchView, PublishedEventView } from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiErrors()
@Controller('v1/tenants/:tenantId/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /** 202: the event and its deliveries are durable in PostgreSQL. */
  @Post()
  @TenantRoute()
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
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'each event without its own key gets "<header>:<index>"' })
  async publishBatch(@CurrentTenant() tenant: Tenant, @Body() dto: PublishBatchDto, @Headers('idempotency-key') key?: string): Promise<PublishedBatchView> {
    return { data: await this.events.publishBatch(tenant, dto.events, key) };
  }

  @Get()
  @TenantRoute()
  list(@CurrentTenant() tenant: Tenant, @Query() query: EventQuery): Promise<Page<EventView>> {
    return this.events.list(tenant, query);
  }

  @Get(':eventId')
  @TenantRoute()
  get(@CurrentTenant() tenant: Tenant, @Param('eventId') id: string): Promise<EventWithPayloadView> {
    return this.events.get(tenant, id);
  }
}
