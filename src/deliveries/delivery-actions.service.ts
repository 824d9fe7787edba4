import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError } from '../common/errors';
import { newId } from '../common/ids';
import { parseTime } from '../common/time';
import { EndpointsService } from '../endpoints/endpoints.service';
import { WAITING_IN_LINE_SQL } from '../endpoints/ordering';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { Tenant } from '../tenants/tenant.entity';
import { AttemptRequestView, BULK_RESEND_MAX, BulkResendDto, BulkResendView, SendExampleDto, SentExampleView } from './dto/delivery-actions.dto';
import { buildWebhookRequest } from './webhook-request';

const EXAMPLE_EVENT_TYPE = 'herald.test';
const HIDDEN = '(set on the endpoint, hidden)';

/** Operator actions on many deliveries at once, and test sends: rows first, then the queue (the sweeper covers a lost enqueue). */
@Injectable()
export class DeliveryActionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointsService,
    private readonly scheduler: DeliveryScheduler,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  /**
   * Resends up to BULK_RESEND_MAX deliveries matching the filter, oldest first, as manual attempts now.
   * Deliveries of deleted endpoints are left alone. `scope`: a portal link's endpoints.
   */
  async bulkResend(tenant: Tenant, dto: BulkResendDto, scope?: string[]): Promise<BulkResendView> {
    const since = parseTime('since', dto.since);
    const until = parseTime('until', dto.until);
    if (since && until && since >= until) throw InvalidInputError.field('since', 'since must be before until');
    const params: unknown[] = [tenant.id, dto.status];
    const where = [`d.tenant_id = $1`, `d.status = $2`, `e.deleted_at IS NULL`];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (dto.endpointId) add('d.endpoint_id = ?', dto.endpointId);
    if (dto.eventType) add('d.event_type = ?', dto.eventType);
    if (since) add('d.created_at >= ?', since);
    if (until) add('d.created_at < ?', until);
    if (scope) add('d.endpoint_id = ANY(?)', scope);
    params.push(BULK_RESEND_MAX + 1);
    const [rows]: [{ id: string; endpoint_id: string; attempt_count: number; was_pending: boolean }[], number] = await this.db.query(
      `WITH picked AS (
         SELECT d.id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
         WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT $${params.length} FOR UPDATE OF d SKIP LOCKED),
       kept AS (SELECT id FROM picked ORDER BY id LIMIT ${BULK_RESEND_MAX})
       UPDATE deliveries d SET status = 'pending', next_trigger = 'manual', updated_at = now(),
              -- A finished delivery resent leaves its line and goes now; a pending one keeps its place, still waiting if it was
              -- (see DeliveriesService.resend).
              next_attempt_at = CASE WHEN d.status = 'pending' AND d.next_attempt_at >= ${WAITING_IN_LINE_SQL} THEN d.next_attempt_at ELSE now() END,
              ordering_seq = CASE WHEN d.status <> 'pending' THEN NULL ELSE d.ordering_seq END
       FROM kept WHERE d.id = kept.id
       RETURNING d.id, d.endpoint_id, d.attempt_count, (SELECT count(*) FROM picked) > ${BULK_RESEND_MAX} AS more`,
      params,
    );
    const items = rows.map((r) => ({ deliveryId: r.id, endpointId: r.endpoint_id, attempt: r.attempt_count + 1 }));
    // A pending delivery's retry may already wait in the queue under the same job id: promoted (see dispatchNow).
    await (dto.status === 'pending' ? this.scheduler.dispatchNow(items, 'resend') : this.scheduler.dispatch(items, 'resend'));
    return { count: rows.length, more: Boolean((rows[0] as unknown as { more?: boolean } | undefined)?.more) };
  }

  /** A test event for one endpoint only: an event row and one delivery, through the same pipeline as any event. */
  async sendExample(tenant: Tenant, endpointId: string, dto: SendExampleDto): Promise<SentExampleView> {
    const endpoint = await this.endpoints.get(tenant, endpointId);
    if (endpoint.disabled) throw new ConflictError(`endpoint ${endpoint.id} is disabled; enable it to send a test event`);
    const eventType = dto.eventType ?? EXAMPLE_EVENT_TYPE;
    const payload = JSON.stringify(dto.payload ?? { type: eventType, test: true, message: 'A test event sent from Herald', endpointId: endpoint.id });
    if (Buffer.byteLength(payload) > this.config.maxPayloadBytes) {
      const error = new PayloadTooLargeError(`payload is larger than ${this.config.maxPayloadBytes} bytes`);
      error.details = [{ field: 'payload', message: error.message }];
      throw error;
    }
    const eventId = newId('evt');
    const deliveryId = newId('dlv');
    const createdAt = new Date();
    await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO events (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)`, [eventId, tenant.id, eventType, payload, createdAt]);
      const inserted: unknown[] = await tx.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
         SELECT $1::varchar, tenant_id, $3::varchar, id, $5::varchar, 'pending', 0, $6::timestamptz, 'initial', $6::timestamptz, $6::timestamptz
         FROM endpoints WHERE id = $4 AND tenant_id = $2 AND deleted_at IS NULL
         RETURNING id`,
        [deliveryId, tenant.id, eventId, endpoint.id, eventType, createdAt],
      );
      // Deleted between the look-up and the insert: nothing is kept.
      if (!inserted.length) throw new NotFoundError('endpoint', endpoint.id);
    });
    await this.scheduler.dispatch([{ deliveryId, endpointId: endpoint.id, attempt: 1 }], 'example');
    return { id: eventId, eventType, createdAt: createdAt.toISOString(), deliveryCount: 1, deliveryId };
  }

  /** The request an attempt sent, rebuilt by the same pure function the worker uses. */
  async attemptRequest(tenant: Tenant, deliveryId: string, attemptId: string): Promise<AttemptRequestView> {
    const [row]: { endpoint_id: string; event_id: string; event_type: string; payload: string; source_headers: Record<string, string> | null; started_at: Date }[] = await this.db.query(
      `SELECT d.endpoint_id, d.event_id, e.event_type, e.payload, e.source_headers, a.started_at
       FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
       WHERE a.id = $1 AND a.delivery_id = $2 AND d.tenant_id = $3`,
      [attemptId, deliveryId, tenant.id],
    );
    if (!row) throw new NotFoundError('attempt', attemptId);
    const endpoint = await this.endpoints.get(tenant, row.endpoint_id).catch(() => null);
    if (!endpoint) throw new NotFoundError('endpoint', row.endpoint_id);
    const built = await buildWebhookRequest({
      endpoint,
      eventId: row.event_id,
      eventType: row.event_type,
      payload: row.payload,
      sourceHeaders: row.source_headers,
      signingSecrets: this.endpoints.signingSecrets(endpoint, row.started_at.getTime()),
      userAgent: `Herald/${this.config.version}`,
      startedAt: row.started_at,
    });
    // The endpoint's transformation (as it is now) fails on this event: such an attempt sent nothing.
    if (!built.ok) throw new ConflictError(`no request to show: ${built.error}`);
    const request = built.request;
    // The endpoint's own headers often carry credentials: named, never shown.
    for (const name of Object.keys(endpoint.headers ?? {})) if (name.toLowerCase() in request.headers || name in request.headers) request.headers[name] = HIDDEN;
    return { url: request.url, headers: request.headers, body: request.body };
  }
}
