import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { Page, decodeCursor, toPage } from '../common/pagination';
import { parseTime } from '../common/time';
import { RecoverDto } from '../endpoints/dto/endpoint.dto';
import { EndpointsService } from '../endpoints/endpoints.service';
import { WAITING_IN_LINE_SQL, waitsInLine } from '../endpoints/ordering';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { ReplaysService } from '../replays/replays.service';
import { Tenant } from '../tenants/tenant.entity';
import { DeliveryAttempt } from './attempt.entity';
import { Delivery } from './delivery.entity';
import { AttemptView, DeliveryQuery, DeliveryView } from './dto/delivery.dto';

/** `waitingFor`: the event at the head of the delivery's line, when the delivery waits behind it (see DeliveriesService.headsOf). */
export function deliveryView(d: Delivery, waitingFor: string | null = null): DeliveryView {
  return {
    id: d.id,
    eventId: d.eventId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.status === 'pending' && d.nextAttemptAt && !waitsInLine(d.nextAttemptAt) ? d.nextAttemptAt.toISOString() : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    orderingKey: d.orderingKey,
    ordered: d.orderingSeq !== null,
    after: d.orderingSeq !== null ? d.orderingAfter : null,
    waitingFor,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function attemptView(a: DeliveryAttempt): AttemptView {
  return {
    id: a.id,
    deliveryId: a.deliveryId,
    attemptNumber: a.attemptNumber,
    trigger: a.trigger,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    responseBody: a.responseBody,
    responseBodyEncoding: a.responseBodyEncoding,
    responseHeaders: a.responseHeaders,
    responseHeadersBase64: a.responseHeadersBase64 ?? [],
    error: a.error,
  };
}

@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointsService,
    private readonly scheduler: DeliveryScheduler,
    private readonly replays: ReplaysService,
  ) {}

  /** `scope`: only deliveries to these endpoints (a portal link limited to some endpoints). */
  async list(tenant: Tenant, query: DeliveryQuery, scope?: string[]): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const since = parseTime('since', query.since);
    const until = parseTime('until', query.until);
    const qb = this.deliveries.createQueryBuilder('d').where('d.tenant_id = :tenantId', { tenantId: tenant.id }).orderBy('d.id', 'DESC').limit(limit + 1);
    if (before) qb.andWhere('d.id < :before', { before });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.endpointId) qb.andWhere('d.endpoint_id = :endpointId', { endpointId: query.endpointId });
    if (query.eventId) qb.andWhere('d.event_id = :eventId', { eventId: query.eventId });
    if (query.eventType) qb.andWhere('d.event_type = :eventType', { eventType: query.eventType });
    if (scope) qb.andWhere('d.endpoint_id = ANY(:scope)', { scope });
    if (since) qb.andWhere('d.created_at >= :since', { since });
    if (until) qb.andWhere('d.created_at < :until', { until });
    const rows = await qb.getMany();
    const waiting = await this.waitingFor(rows);
    return toPage(rows, limit, (d) => deliveryView(d, waiting.get(d.id) ?? null));
  }

  /** One delivery as the API shows it, with the event it waits for when it waits in its line. */
  async view(tenant: Tenant, id: string): Promise<DeliveryView> {
    const delivery = await this.get(tenant, id);
    const waiting = await this.waitingFor([delivery]);
    return deliveryView(delivery, waiting.get(delivery.id) ?? null);
  }

  /**
   * For the pending deliveries among `rows` that are in a line: the event at the head of the line, when it is not
   * the delivery itself. One query for a page, none when the page has no such delivery.
   */
  private async waitingFor(rows: Delivery[]): Promise<Map<string, string>> {
    const lined = rows.filter((d) => d.status === 'pending' && d.orderingSeq !== null && d.orderingKey !== null);
    const waiting = new Map<string, string>();
    if (!lined.length) return waiting;
    const heads: { endpoint_id: string; ordering_key: string; ordering_seq: string; event_id: string }[] = await this.db.query(
      `SELECT DISTINCT ON (d.endpoint_id, d.ordering_key) d.endpoint_id, d.ordering_key, d.ordering_seq::text AS ordering_seq, d.event_id
       FROM deliveries d JOIN unnest($1::varchar[], $2::varchar[]) AS x(endpoint_id, ordering_key) ON d.endpoint_id = x.endpoint_id AND d.ordering_key = x.ordering_key
       WHERE d.status = 'pending' AND d.ordering_seq IS NOT NULL
       ORDER BY d.endpoint_id, d.ordering_key, d.ordering_seq`,
      [lined.map((d) => d.endpointId), lined.map((d) => d.orderingKey)],
    );
    const headOf = new Map(heads.map((h) => [`${h.endpoint_id}\u0000${h.ordering_key}`, h]));
    for (const d of lined) {
      const head = headOf.get(`${d.endpointId}\u0000${d.orderingKey}`);
      if (head && BigInt(head.ordering_seq) < BigInt(d.orderingSeq!)) waiting.set(d.id, head.event_id);
    }
    return waiting;
  }

  async get(tenant: Tenant, id: string): Promise<Delivery> {
    const delivery = await this.deliveries.findOneBy({ tenantId: tenant.id, id });
    if (!delivery) throw new NotFoundError('delivery', id);
    return delivery;
  }

  async attemptsOf(tenant: Tenant, id: string): Promise<{ data: AttemptView[] }> {
    const delivery = await this.get(tenant, id);
    const rows = await this.attempts.find({ where: { deliveryId: delivery.id }, order: { attemptNumber: 'ASC', startedAt: 'ASC' } });
    return { data: rows.map(attemptView) };
  }

  /**
   * A fresh attempt now, whatever the status, logged with trigger "manual". While an attempt is in flight (its
   * delivery claimed), the resend is noted on the row and the manual attempt follows as soon as that one is
   * recorded. The answer never waits on Redis: when it is slow or down, the sweeper queues the attempt.
   *
   * Ordered delivery: a finished (succeeded or dead) delivery that is resent leaves its line (ordering_seq NULL) and
   * goes now: its line has moved on, and putting it back would either hold newer events behind an old one or send it
   * out of order anyway; an operator who resends expects it to go now (as in Svix and Outpost). A pending delivery
   * keeps its place: the head's manual attempt goes now, a delivery waiting behind the head goes (as a manual
   * attempt) when its turn comes.
   */
  async resend(tenant: Tenant, id: string): Promise<DeliveryView> {
    const delivery = await this.get(tenant, id);
    const [rows]: [{ attempt_count: number; in_flight: boolean }[], number] = await this.db.query(
      `UPDATE deliveries d SET
         resend_requested = in_flight.yes,
         status = CASE WHEN in_flight.yes THEN d.status ELSE 'pending' END,
         ordering_seq = CASE WHEN d.status <> 'pending' THEN NULL ELSE d.ordering_seq END,
         next_trigger = CASE WHEN in_flight.yes THEN d.next_trigger ELSE 'manual' END,
         next_attempt_at = CASE WHEN in_flight.yes OR (d.status = 'pending' AND d.next_attempt_at >= ${WAITING_IN_LINE_SQL}) THEN d.next_attempt_at ELSE now() END,
         updated_at = now()
       FROM (SELECT d2.claimed_until IS NOT NULL AND d2.claimed_until > now() AS yes FROM deliveries d2 WHERE d2.id = $1 FOR UPDATE) AS in_flight
       WHERE d.id = $1 AND d.tenant_id = $2 RETURNING d.attempt_count, in_flight.yes AS in_flight`,
      [delivery.id, tenant.id],
    );
    const row = rows[0];
    if (row && !row.in_flight) await this.scheduler.dispatchNow([{ deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: row.attempt_count + 1 }], 'resend');
    return this.view(tenant, id);
  }

  /** Resends every failed (pending after a failure) or dead delivery of the endpoint created in [since, until): a replay. */
  async recover(tenant: Tenant, endpointId: string, dto: RecoverDto): Promise<{ count: number; id: string }> {
    const replay = await this.replays.create(tenant, { since: dto.since, until: dto.until, endpointId, status: ['failed', 'dead'] });
    return { count: replay.total, id: replay.id };
  }
}
