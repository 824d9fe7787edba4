import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { InvalidInputError, NotFoundError } from '../common/errors';
import { DeliveryAttempt } from '../deliveries/attempt.entity';
import { DeliveriesService } from '../deliveries/deliveries.service';
import { Delivery } from '../deliveries/delivery.entity';
import { HeraldEvent } from '../events/event.entity';
import { EventsService } from '../events/events.service';
import { Tenant } from '../tenants/tenant.entity';
import { MessageIn } from './dto/svix-inputs.dto';
import { SvixEndpoints } from './svix-endpoints.service';
import { SvixHttpError } from './svix-errors';
import { SvixListRequest, afterOperator, toSvixList } from './svix-list';
import { attemptOut, endpointMessageOut, messageEndpointOut, messageOut } from './svix-views';

/** The filters Svix's message and attempt lists take (snake_case query parameters). */
export interface SvixListFilters {
  channel?: string;
  eventTypes?: string[];
  before?: Date;
  after?: Date;
  status?: number;
  endpointId?: string;
  withContent: boolean;
}

const STATUS_SQL: Record<number, string> = { 0: `d.status = 'succeeded'`, 1: `d.status = 'pending'`, 2: `d.status = 'dead'`, 3: 'false' };

/** Messages are events; attempts and their destinations are Herald's deliveries and attempts, read per tenant. */
@Injectable()
export class SvixMessages {
  constructor(
    private readonly events: EventsService,
    private readonly deliveries: DeliveriesService,
    private readonly endpoints: SvixEndpoints,
    @InjectRepository(HeraldEvent) private readonly eventRows: Repository<HeraldEvent>,
    @InjectRepository(Delivery) private readonly deliveryRows: Repository<Delivery>,
    @InjectRepository(DeliveryAttempt) private readonly attemptRows: Repository<DeliveryAttempt>,
  ) {}

  /** Publishes; `eventId` is the idempotency key, and a second message with it is 409 (Svix's rule). */
  async create(tenant: Tenant, body: MessageIn, withContent: boolean) {
    if (body.eventId && (await this.findByEventId(tenant, body.eventId))) {
      throw new SvixHttpError(409, 'conflict', `a message with eventId "${body.eventId}" exists`);
    }
    const published = await this.events.publishOne(tenant, {
      eventType: body.eventType,
      payload: body.payload,
      idempotencyKey: body.eventId ?? undefined,
      channels: body.channels ?? undefined,
    });
    return messageOut(await this.eventRows.findOneByOrFail({ id: published.id }), withContent);
  }

  async list(tenant: Tenant, request: SvixListRequest, filters: SvixListFilters) {
    const qb = this.eventRows
      .createQueryBuilder('e')
      .where('e.tenant_id = :tenantId', { tenantId: tenant.id })
      .orderBy('e.id', request.direction)
      .take(request.limit + 1);
    if (request.from) qb.andWhere(`e.id ${afterOperator(request)} :from`, { from: request.from });
    this.filterEvents(qb, filters);
    return toSvixList(await qb.getMany(), request, (e) => e.id, (e) => messageOut(e, filters.withContent));
  }

  /** By Herald's id, or by the eventId it was published with (within the 24 h the key is kept). */
  async get(tenant: Tenant, msgId: string): Promise<HeraldEvent> {
    const event = msgId.startsWith('evt_') ? await this.eventRows.findOneBy({ tenantId: tenant.id, id: msgId }) : await this.findByEventId(tenant, msgId);
    if (!event) throw new NotFoundError('message', msgId);
    return event;
  }

  /** Forgets the payload (an empty object is what later attempts would send). */
  async expunge(tenant: Tenant, msgId: string): Promise<void> {
    const event = await this.get(tenant, msgId);
    await this.eventRows.update({ tenantId: tenant.id, id: event.id }, { payload: '{}' });
  }

  async attemptsByEndpoint(tenant: Tenant, endpointIdOrUid: string, request: SvixListRequest, filters: SvixListFilters) {
    const endpoint = await this.endpoints.live(tenant, endpointIdOrUid);
    const qb = this.attempts(tenant, request, filters).andWhere('a.endpoint_id = :endpointId', { endpointId: endpoint.id });
    return toSvixList(await qb.getMany(), request, (a) => a.id, (a) => attemptOut(a, a.delivery!, endpoint.url, filters.withContent));
  }

  async attemptsByMessage(tenant: Tenant, msgId: string, request: SvixListRequest, filters: SvixListFilters) {
    const event = await this.get(tenant, msgId);
    const qb = this.attempts(tenant, request, filters).andWhere('d.event_id = :eventId', { eventId: event.id });
    if (filters.endpointId) qb.andWhere('a.endpoint_id = :endpointId', { endpointId: (await this.endpoints.live(tenant, filters.endpointId)).id });
    const rows = await qb.getMany();
    const urls = await this.endpoints.byIds(tenant.id, [...new Set(rows.map((a) => a.endpointId))]);
    return toSvixList(rows, request, (a) => a.id, (a) => attemptOut(a, a.delivery!, urls.get(a.endpointId)?.url ?? '', filters.withContent));
  }

  async attempt(tenant: Tenant, msgId: string, attemptId: string) {
    const event = await this.get(tenant, msgId);
    const attempt = await this.attemptRows
      .createQueryBuilder('a')
      .innerJoinAndSelect('a.delivery', 'd')
      .where('d.tenant_id = :tenantId AND d.event_id = :eventId AND a.id = :attemptId', { tenantId: tenant.id, eventId: event.id, attemptId })
      .getOne();
    if (!attempt) throw new NotFoundError('attempt', attemptId);
    return attempt;
  }

  async attemptOut(tenant: Tenant, msgId: string, attemptId: string) {
    const attempt = await this.attempt(tenant, msgId, attemptId);
    const endpoint = (await this.endpoints.byIds(tenant.id, [attempt.endpointId])).get(attempt.endpointId);
    return attemptOut(attempt, attempt.delivery!, endpoint?.url ?? '');
  }

  async expungeAttempt(tenant: Tenant, msgId: string, attemptId: string): Promise<void> {
    const attempt = await this.attempt(tenant, msgId, attemptId);
    await this.attemptRows.update({ id: attempt.id }, { responseBody: null, responseHeaders: null });
  }

  /** The endpoints a message was sent to, with its status at each (iterated by endpoint id). */
  async destinations(tenant: Tenant, msgId: string, request: SvixListRequest) {
    const event = await this.get(tenant, msgId);
    const qb = this.deliveryRows
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId AND d.event_id = :eventId', { tenantId: tenant.id, eventId: event.id })
      .orderBy('d.endpoint_id', request.direction)
      .take(request.limit + 1);
    if (request.from) qb.andWhere(`d.endpoint_id ${afterOperator(request)} :from`, { from: request.from });
    const rows = await qb.getMany();
    const endpoints = await this.endpoints.byIds(tenant.id, rows.map((d) => d.endpointId));
    const known = rows.filter((d) => endpoints.has(d.endpointId));
    return toSvixList(known, request, (d) => d.endpointId, (d) => messageEndpointOut(endpoints.get(d.endpointId)!, d));
  }

  /** The messages sent to an endpoint, with their status there (iterated by message id). */
  async attemptedMessages(tenant: Tenant, endpointIdOrUid: string, request: SvixListRequest, filters: SvixListFilters) {
    const endpoint = await this.endpoints.live(tenant, endpointIdOrUid);
    const qb = this.deliveryRows
      .createQueryBuilder('d')
      .innerJoinAndSelect('d.event', 'e')
      .where('d.tenant_id = :tenantId AND d.endpoint_id = :endpointId', { tenantId: tenant.id, endpointId: endpoint.id })
      .orderBy('d.event_id', request.direction)
      .limit(request.limit + 1);
    if (request.from) qb.andWhere(`d.event_id ${afterOperator(request)} :from`, { from: request.from });
    if (filters.status !== undefined) qb.andWhere(STATUS_SQL[filters.status] ?? 'true');
    this.filterEvents(qb, filters);
    return toSvixList(await qb.getMany(), request, (d) => d.eventId, (d) => endpointMessageOut(d.event!, d, filters.withContent));
  }

  /** A fresh attempt of the message at the endpoint; it must have been sent there before. */
  async resend(tenant: Tenant, msgId: string, endpointIdOrUid: string): Promise<void> {
    const event = await this.get(tenant, msgId);
    const endpoint = await this.endpoints.live(tenant, endpointIdOrUid);
    const delivery = await this.deliveryRows.findOneBy({ tenantId: tenant.id, eventId: event.id, endpointId: endpoint.id });
    if (!delivery) throw new NotFoundError('message destination', `${event.id} → ${endpoint.id}`);
    await this.deliveries.resend(tenant, delivery.id);
  }

  private attempts(tenant: Tenant, request: SvixListRequest, filters: SvixListFilters): SelectQueryBuilder<DeliveryAttempt> {
    const qb = this.attemptRows
      .createQueryBuilder('a')
      .innerJoinAndSelect('a.delivery', 'd')
      .where('d.tenant_id = :tenantId', { tenantId: tenant.id })
      .orderBy('a.id', request.direction)
      // limit, not take: the join is one-to-one, and take would wrap the query in a DISTINCT subquery.
      .limit(request.limit + 1);
    if (request.from) qb.andWhere(`a.id ${afterOperator(request)} :from`, { from: request.from });
    if (filters.status === 0) qb.andWhere('a.status_code BETWEEN 200 AND 299');
    else if (filters.status === 2) qb.andWhere('(a.status_code IS NULL OR a.status_code NOT BETWEEN 200 AND 299)');
    else if (filters.status !== undefined) qb.andWhere('false');
    if (filters.eventTypes?.length) qb.andWhere('d.event_type IN (:...eventTypes)', { eventTypes: filters.eventTypes });
    if (filters.before) qb.andWhere('a.started_at < :before', { before: filters.before });
    if (filters.after) qb.andWhere('a.started_at > :after', { after: filters.after });
    if (filters.channel) qb.andWhere('d.event_id IN (SELECT id FROM events WHERE tenant_id = :tenantId AND :channel = ANY(channels))', { channel: filters.channel });
    return qb;
  }

  private filterEvents<T extends object>(qb: SelectQueryBuilder<T>, filters: SvixListFilters): void {
    if (filters.channel) qb.andWhere(':channel = ANY(e.channels)', { channel: filters.channel });
    if (filters.eventTypes?.length) qb.andWhere('e.event_type IN (:...eventTypes)', { eventTypes: filters.eventTypes });
    if (filters.before) qb.andWhere('e.created_at < :before', { before: filters.before });
    if (filters.after) qb.andWhere('e.created_at > :after', { after: filters.after });
  }

  private findByEventId(tenant: Tenant, eventId: string): Promise<HeraldEvent | null> {
    return this.eventRows
      .createQueryBuilder('e')
      .where(`e.tenant_id = :tenantId AND e.idempotency_key = :eventId AND e.created_at > now() - interval '24 hours'`, { tenantId: tenant.id, eventId })
      .getOne();
  }
}

/** Reads Svix's list filters from a query string; bad values answer 422 naming the parameter. */
export function parseListFilters(query: Record<string, string | undefined>): SvixListFilters {
  const date = (name: string) => {
    const raw = query[name];
    if (!raw) return undefined;
    const value = new Date(raw);
    if (Number.isNaN(value.getTime())) throw InvalidInputError.field(`query.${name}`, `${name} must be an ISO-8601 date-time`);
    return value;
  };
  const status = query.status === undefined ? undefined : Number(query.status);
  if (status !== undefined && ![0, 1, 2, 3, 4].includes(status)) throw InvalidInputError.field('query.status', 'status must be 0, 1, 2, 3 or 4');
  return {
    channel: query.channel || undefined,
    eventTypes: query.event_types ? query.event_types.split(',').filter(Boolean) : undefined,
    before: date('before'),
    after: date('after'),
    status,
    endpointId: query.endpoint_id || undefined,
    withContent: query.with_content !== 'false',
  };
}
