import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { newId } from '../common/ids';
import { EndpointCache } from '../endpoints/endpoint-cache';
import { EnqueueItem } from '../queues/delivery-queues';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { MetricsService } from '../metrics/metrics.service';
import { EndpointRateLimiter } from '../rate-limit/rate-limiter';
import { Endpoint } from '../endpoints/endpoint.entity';

/** One event to publish; `payload` is already serialised: these are the bytes that are signed and sent. */
export interface NewEvent {
  tenantId: string;
  eventType: string;
  payload: string;
  idempotencyKey?: string;
  sourceHeaders?: Record<string, string> | null;
}

export interface PublishedEvent {
  id: string;
  eventType: string;
  createdAt: string;
  deliveryCount: number;
}

interface Waiting {
  events: NewEvent[];
  resolve: (result: PublishedEvent[]) => void;
  reject: (error: unknown) => void;
}

interface Row {
  id: string;
  event: NewEvent;
  createdAt: Date;
  /** Set when the idempotency key names an earlier event, or an earlier item of this commit. */
  existing?: PublishedEvent;
  duplicateOf?: Row;
}

interface NewDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  endpoint: Endpoint;
  eventType: string;
  sendAt?: number;
}

const INSERT_EVENTS = `INSERT INTO events (id, tenant_id, event_type, payload, idempotency_key, source_headers, created_at)
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::varchar[], $6::jsonb[], $7::timestamptz[])`;

const INSERT_DELIVERIES = `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
  SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id, d.event_type, 'pending', 0, coalesce(d.next_attempt_at, $7), 'initial', $7, $7
  FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::timestamptz[]) AS d(id, tenant_id, event_id, endpoint_id, event_type, next_attempt_at)`;

/** $15, $16: tenants and the endpoint-list versions fan-out used; ok when every one is still current. */
const CURRENT_VERSIONS = `SELECT coalesce(bool_and(t.endpoints_version::text = x.version), true) AS ok
  FROM unnest($15::varchar[], $16::text[]) AS x(tenant_id, version) JOIN tenants t ON t.id = x.tenant_id`;

/** A fan-out from a stale endpoint list: the transaction is rolled back and the commit made again. */
const STALE = Symbol('stale endpoint list');
/** How often a commit is made again because endpoint lists went stale under it. */
const MAX_STALE_RETRIES = 5;

function versionParams(versions: Map<string, string>): [string[], string[]] {
  return [[...versions.keys()], [...versions.values()]];
}

/** Shifts a statement's $n placeholders by `by`, to run it after another's parameters. */
function renumber(sql: string, by: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);
}

function eventParams(rows: Row[]): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.event.tenantId),
    rows.map((r) => r.event.eventType),
    rows.map((r) => r.event.payload),
    rows.map((r) => r.event.idempotencyKey ?? null),
    rows.map((r) => (r.event.sourceHeaders ? JSON.stringify(r.event.sourceHeaders) : null)),
    rows.map((r) => r.createdAt),
  ];
}

function deliveryParams(deliveries: NewDelivery[], now: Date): unknown[] {
  return [
    deliveries.map((d) => d.id),
    deliveries.map((d) => d.tenantId),
    deliveries.map((d) => d.eventId),
    deliveries.map((d) => d.endpoint.id),
    deliveries.map((d) => d.eventType),
    deliveries.map((d) => (d.sendAt ? new Date(d.sendAt) : null)),
    now,
  ];
}

/**
 * Publishes events with group commit: requests that arrive while a commit is running share the next one,
 * so a burst becomes a few multi-row inserts instead of one transaction per event.
 * A result is returned only after its event and deliveries are committed.
 */
@Injectable()
export class EventPublisher {
  private readonly logger = new Logger(EventPublisher.name);
  private waiting: Waiting[] = [];
  private waitingEvents = 0;
  private flushing = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointCache,
    private readonly scheduler: DeliveryScheduler,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
    private readonly rateLimiter: EndpointRateLimiter,
  ) {}

  publish(events: NewEvent[]): Promise<PublishedEvent[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      this.waitingEvents += events.length;
      this.schedule();
    });
  }

  // Two commits may run at once (the pool has room); more would only queue up inside PostgreSQL.
  private schedule(): void {
    if (this.flushing >= 2 || this.waiting.length === 0) return;
    const group: Waiting[] = [];
    let size = 0;
    while (this.waiting.length && (size === 0 || size + this.waiting[0].events.length <= this.config.publishBatchMax)) {
      const next = this.waiting.shift()!;
      size += next.events.length;
      group.push(next);
    }
    this.waitingEvents -= size;
    this.flushing++;
    void this.commitGroup(group).finally(() => {
      this.flushing--;
      this.schedule();
    });
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    try {
      const results = await this.commit(group.flatMap((w) => w.events));
      let offset = 0;
      for (const w of group) {
        w.resolve(results.slice(offset, offset + w.events.length));
        offset += w.events.length;
      }
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      // One request's failure must not fail the others that happened to share its commit.
      for (const w of group) {
        await this.commit(w.events).then(w.resolve, w.reject);
      }
    }
  }

  /**
   * Fan-out reads each tenant's endpoints from a cache; the statement that writes the deliveries checks the
   * tenants' endpoints_version against the cached one and writes nothing when a list was stale (an endpoint
   * changed and the invalidation message was missed): the lists are reloaded and the commit made again.
   */
  private async commit(events: NewEvent[]): Promise<PublishedEvent[]> {
    for (let tries = 1; ; tries++) {
      const versions = new Map<string, string>();
      const result = await this.commitOnce(events, versions);
      if (result) return result;
      for (const tenantId of versions.keys()) this.endpoints.forgetTenant(tenantId);
      if (tries >= MAX_STALE_RETRIES) throw new Error('the endpoints of a tenant kept changing while publishing');
    }
  }

  /** One commit; undefined (nothing written) when a cached endpoint list turned out stale. */
  private async commitOnce(events: NewEvent[], versions: Map<string, string>): Promise<PublishedEvent[] | undefined> {
    const now = new Date();
    const rows: Row[] = events.map((event) => ({ id: newId('evt'), event, createdAt: now }));
    const enqueue: EnqueueItem[] = [];

    if (rows.some((r) => r.event.idempotencyKey)) {
      // PostgreSQL's default isolation (READ COMMITTED); naming it would cost a round trip per commit.
      const fresh = await this.db.transaction(async (tx) => {
        await this.resolveIdempotency(tx, rows);
        const fresh = rows.filter((r) => !r.existing && !r.duplicateOf);
        if (fresh.length === 0) return true;
        const inserted: { id: string }[] = await tx.query(`${INSERT_EVENTS} ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`, eventParams(fresh));
        if (inserted.length !== fresh.length) {
          // A concurrent commit took an idempotency key between our check and our insert: answer its event.
          const ids = new Set(inserted.map((r) => r.id));
          await this.resolveIdempotency(tx, fresh.filter((r) => !ids.has(r.id)), true);
        }
        const deliveries = await this.fanOut(rows, now, versions);
        // FOR SHARE holds off endpoint changes (their trigger updates the tenant row) until this commit is done.
        const [tenants, current] = versionParams(versions);
        const locked: { id: string; version: string }[] = await tx.query(`SELECT id, endpoints_version::text AS version FROM tenants WHERE id = ANY($1::varchar[]) FOR SHARE`, [tenants]);
        if (locked.some((t) => t.version !== current[tenants.indexOf(t.id)])) throw STALE;
        if (deliveries.length) await tx.query(INSERT_DELIVERIES, deliveryParams(deliveries, now));
        enqueue.push(...deliveries.map((d) => ({ deliveryId: d.id, endpointId: d.endpoint.id, attempt: 1, slotAt: d.sendAt })));
        return true;
      }).catch((error) => {
        if (error === STALE) return false;
        throw error;
      });
      if (!fresh) return undefined;
    } else {
      // No idempotency keys: events and deliveries in one statement, so one round trip and one commit.
      const deliveries = await this.fanOut(rows, now, versions);
      const params = [...eventParams(rows), ...deliveryParams(deliveries, now), ...versionParams(versions)];
      const [{ ok }]: { ok: boolean }[] = await this.db.query(
        `WITH v AS (${CURRENT_VERSIONS}), e AS (${INSERT_EVENTS} WHERE (SELECT ok FROM v)), d AS (${renumber(INSERT_DELIVERIES, 7)} WHERE (SELECT ok FROM v)) SELECT ok FROM v`,
        params,
      );
      if (!ok) return undefined;
      enqueue.push(...deliveries.map((d) => ({ deliveryId: d.id, endpointId: d.endpoint.id, attempt: 1, slotAt: d.sendAt })));
    }

    this.metrics.eventsPublished.inc(rows.filter((r) => !r.duplicateOf && r.existing?.id === r.id).length);
    this.enqueueAfterCommit(enqueue);
    return rows.map((r) => (r.duplicateOf ? r.duplicateOf.existing! : r.existing!));
  }

  /**
   * One delivery per enabled endpoint that subscribes, for each row to be written; their send slots when
   * throttled. `versions` collects the version of each tenant's endpoint list used.
   */
  private async fanOut(rows: Row[], now: Date, versions: Map<string, string>): Promise<NewDelivery[]> {
    const deliveries: NewDelivery[] = [];
    for (const row of rows) {
      if (row.existing || row.duplicateOf) continue;
      const { endpoints: matching, version } = await this.endpoints.matching(row.event.tenantId, row.event);
      versions.set(row.event.tenantId, version);
      row.existing = { id: row.id, eventType: row.event.eventType, createdAt: now.toISOString(), deliveryCount: matching.length };
      for (const endpoint of matching) {
        deliveries.push({ id: newId('dlv'), tenantId: row.event.tenantId, eventId: row.id, endpoint, eventType: row.event.eventType });
      }
    }
    await this.reserveSlots(deliveries);
    return deliveries;
  }

  /**
   * Marks rows whose idempotency key was used in the last 24 h (or earlier in this commit).
   * Keys older than 24 h are released first so they can be used again.
   */
  private async resolveIdempotency(tx: EntityManager, rows: Row[], afterConflict = false): Promise<void> {
    const keyed = rows.filter((r) => r.event.idempotencyKey);
    if (keyed.length === 0) return;
    const firstByKey = new Map<string, Row>();
    for (const row of keyed) {
      const key = `${row.event.tenantId}\u0000${row.event.idempotencyKey}`;
      const first = firstByKey.get(key);
      if (first && !afterConflict) row.duplicateOf = first;
      else firstByKey.set(key, row);
    }
    const tenants = keyed.map((r) => r.event.tenantId);
    const keys = keyed.map((r) => r.event.idempotencyKey!);
    if (!afterConflict) {
      await tx.query(
        `UPDATE events e SET idempotency_key = NULL FROM unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key)
         WHERE e.tenant_id = k.tenant_id AND e.idempotency_key = k.key AND e.created_at < now() - interval '24 hours'`,
        [tenants, keys],
      );
    }
    const found: { id: string; tenant_id: string; idempotency_key: string; event_type: string; created_at: Date; delivery_count: number }[] = await tx.query(
      `SELECT e.id, e.tenant_id, e.idempotency_key, e.event_type, e.created_at,
              (SELECT count(*)::int FROM deliveries d WHERE d.event_id = e.id) AS delivery_count
       FROM events e JOIN unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key) ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.key`,
      [tenants, keys],
    );
    const byKey = new Map(found.map((f) => [`${f.tenant_id}\u0000${f.idempotency_key}`, f]));
    for (const row of keyed) {
      const hit = byKey.get(`${row.event.tenantId}\u0000${row.event.idempotencyKey}`);
      if (hit && !row.duplicateOf) {
        row.existing = { id: hit.id, eventType: hit.event_type, createdAt: hit.created_at.toISOString(), deliveryCount: hit.delivery_count };
      }
    }
  }

  /**
   * Deliveries to a rate-limited endpoint get their send slots now, one Redis call per endpoint, and go
   * straight to the delayed set at those slots: a burst for a throttled endpoint then never queues in
   * front of other endpoints' jobs. Without Redis (or if it is slow) the worker reserves instead.
   */
  private async reserveSlots(deliveries: NewDelivery[]): Promise<void> {
    const limited = new Map<Endpoint, { sendAt?: number }[]>();
    for (const d of deliveries) {
      if (!d.endpoint.rateLimitPerSecond) continue;
      const list = limited.get(d.endpoint);
      if (list) list.push(d);
      else limited.set(d.endpoint, [d]);
    }
    if (limited.size === 0 || !this.scheduler.ready()) return;
    let abandoned = false;
    const reserving = Promise.all(
      [...limited].map(async ([endpoint, list]) => {
        const delays = await this.rateLimiter.reserveEndpointSlots(endpoint.id, endpoint.rateLimitPerSecond!, list.length);
        const at = Date.now();
        // Too late: these rows are written without slots (the reserved ones go unused).
        if (!abandoned) list.forEach((d, i) => (d.sendAt = at + delays[i]));
      }),
    );
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 500).unref());
    try {
      await Promise.race([reserving, timeout]);
    } catch (error) {
      this.logger.warn(`could not reserve send slots; the worker will: ${(error as Error).message}`);
    } finally {
      abandoned = true;
    }
  }

  /**
   * Enqueueing is not awaited by the caller: the rows are committed, and if Redis is slow or down the
   * sweeper enqueues them from PostgreSQL. A crash here loses nothing for the same reason.
   */
  private enqueueAfterCommit(items: EnqueueItem[]): void {
    void this.scheduler.dispatch(items);
  }
}
