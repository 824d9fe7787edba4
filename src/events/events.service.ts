import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { InvalidInputError, NotFoundError, PayloadTooLargeError } from '../common/errors';
import { Page, decodeCursor, toPage } from '../common/pagination';
import { parseTime } from '../common/time';
import { Tenant } from '../tenants/tenant.entity';
import { EventQuery, EventView, EventWithPayloadView, PublishEventDto } from './dto/event.dto';
import { EventPayloadValidator } from '../event-types/event-payload-validator';
import { EventPublisher } from './event-publisher';
import { NewEvent, PublishedEvent } from './publish-writes';
import { HeraldEvent } from './event.entity';
import { PublishRateLimit } from './publish-rate-limit';

function eventView(e: HeraldEvent): EventView {
  return { id: e.id, eventType: e.eventType, idempotencyKey: e.idempotencyKey, channels: e.channels, createdAt: e.createdAt.toISOString() };
}

@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(HeraldEvent) private readonly events: Repository<HeraldEvent>,
    private readonly publisher: EventPublisher,
    private readonly rateLimit: PublishRateLimit,
    private readonly validator: EventPayloadValidator,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async publishOne(tenant: Tenant, dto: PublishEventDto, idempotencyHeader?: string): Promise<PublishedEvent> {
    const key = dto.idempotencyKey ?? this.headerKey(idempotencyHeader);
    const event = this.toNewEvent(tenant, dto, 'payload', key);
    await this.validator.check(dto.eventType, dto.payload, 'payload');
    await this.rateLimit.admit(tenant, 1);
    const [published] = await this.publisher.publish([event]);
    return published;
  }

  /** All or nothing: one bad event refuses the whole batch, naming it by index. */
  async publishBatch(tenant: Tenant, dtos: PublishEventDto[], idempotencyHeader?: string): Promise<PublishedEvent[]> {
    const headerKey = this.headerKey(idempotencyHeader);
    // With an Idempotency-Key header on the batch, each event's key defaults to "<header>:<index>".
    const events = dtos.map((dto, i) => this.toNewEvent(tenant, dto, `events.${i}.payload`, dto.idempotencyKey ?? (headerKey ? `${headerKey}:${i}` : undefined)));
    for (const [i, dto] of dtos.entries()) await this.validator.check(dto.eventType, dto.payload, `events.${i}.payload`);
    await this.rateLimit.admit(tenant, events.length);
    return this.publisher.publish(events);
  }

  /** For producers inside Herald (the inbound module): payload already serialised. */
  publishRaw(event: NewEvent): Promise<PublishedEvent> {
    return this.publisher.publish([event]).then(([published]) => published);
  }

  /** `scope`: only events with a delivery to one of these endpoints (a portal link limited to some endpoints). */
  async list(tenant: Tenant, query: EventQuery, scope?: string[]): Promise<Page<EventView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const since = parseTime('since', query.since);
    const until = parseTime('until', query.until);
    const qb = this.events.createQueryBuilder('e').where('e.tenant_id = :tenantId', { tenantId: tenant.id }).orderBy('e.id', 'DESC').limit(limit + 1);
    if (before) qb.andWhere('e.id < :before', { before });
    if (query.eventType) qb.andWhere('e.event_type = :eventType', { eventType: query.eventType });
    if (since) qb.andWhere('e.created_at >= :since', { since });
    if (until) qb.andWhere('e.created_at < :until', { until });
    if (scope) qb.andWhere('EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.endpoint_id = ANY(:scope))', { scope });
    return toPage(await qb.getMany(), limit, eventView);
  }

  async get(tenant: Tenant, id: string): Promise<EventWithPayloadView> {
    const event = await this.events.findOneBy({ tenantId: tenant.id, id });
    if (!event) throw new NotFoundError('event', id);
    return { ...eventView(event), payload: JSON.parse(event.payload) };
  }

  private toNewEvent(tenant: Tenant, dto: PublishEventDto, field: string, idempotencyKey?: string): NewEvent {
    if (dto.payload === null || typeof dto.payload !== 'object' || Array.isArray(dto.payload)) {
      throw InvalidInputError.field(field, `${field} must be a JSON object`);
    }
    // Serialised once, here: these exact bytes are stored, signed and sent on every attempt.
    const payload = JSON.stringify(dto.payload);
    if (Buffer.byteLength(payload) > this.config.maxPayloadBytes) {
      const error = new PayloadTooLargeError(`${field} is larger than ${this.config.maxPayloadBytes} bytes`);
      error.details = [{ field, message: error.message }];
      throw error;
    }
    return { tenantId: tenant.id, eventType: dto.eventType, payload, idempotencyKey, channels: dto.channels?.length ? dto.channels : null, orderingKey: dto.orderingKey ?? null };
  }

  private headerKey(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    if (header.length < 1 || header.length > 200) throw InvalidInputError.field('Idempotency-Key', 'the Idempotency-Key header must be 1 to 200 characters');
    return header;
  }
}
