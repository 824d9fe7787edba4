import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { isUnavailable } from '../common/error.filter';
import { LimitExceededError, OverloadedError } from '../common/errors';
import { newId } from '../common/ids';
import { EndpointCache, TenantEndpoints } from '../endpoints/endpoint-cache';
import { subscribes } from '../endpoints/subscription';
import { EnqueueItem } from '../queues/delivery-queues';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { MetricsService } from '../metrics/metrics.service';
import { EndpointRateLimiter } from '../rate-limit/rate-limiter';
import { Endpoint } from '../endpoints/endpoint.entity';
import { GroupSpans, PublishTrace, PublishTracing } from '../tracing/publish-tracing';
import { WAITING_IN_LINE_AT, takesPlaceInLine } from '../endpoints/ordering';

/** One event to publish; `payload` is already serialised: these are the bytes that are signed and sent. */
export interface NewEvent {
  tenantId: string;
  eventType: string;
  payload: string;
  idempotencyKey?: string;
  sourceHeaders?: Record<string, string> | null;
  /** Set by the publisher when tracing is on: the publish request's traceparent, kept for the attempts. */
  traceparent?: string | null;
  /** Only endpoints with a channel in common get it (endpoints without channels get everything). */
  channels?: string[] | null;
  /** Endpoints with ordering "key" deliver the events of one key in publish order, one at a time. */
  orderingKey?: string | null;
}

export interface PublishedEvent {
  id: string;
  eventType: string;
  createdAt: string;
  deliveryCount: number;
}

interface Waiting {
  events: NewEvent[];
  /** Delivery rows its events fan out to (counted before it joins a group). */
  deliveries: number;
  trace?: PublishTrace;
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
  /** The event's ordering key (kept on every delivery of the event). */
  orderingKey: string | null;
  /** Its place in the line (endpoint, orderingKey), for an ordered endpoint: set by takePlaces in the publishing transaction. */
  seq?: number;
  /** The event before it in its line. */
  after?: string | null;
  /**
   * A delivery of its line is pending before it: it is written waiting (WAITING_IN_LINE_AT) and not queued; the
   * transaction that finishes the one before it releases it.
   */
  waiting?: boolean;
}

// channels travel as JSON (unnest cannot take an array of arrays) and become text[] here.
const INSERT_EVENTS = `INSERT INTO events (id, tenant_id, event_type, payload, idempotency_key, source_headers, created_at, trace_context, channels)
  SELECT e.id, e.tenant_id, e.event_type, e.payload, e.idempotency_key, e.source_headers, e.created_at, e.trace_context,
         CASE WHEN e.channels IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(e.channels)) END
  FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::varchar[], $6::jsonb[], $7::timestamptz[], $8::varchar[], $9::jsonb[])
    AS e(id, tenant_id, event_type, payload, idempotency_key, source_headers, created_at, trace_context, channels)`;

/**
 * INSERT_EVENTS for a commit holding idempotency keys: each key is taken in event_idempotency_keys first (its
 * primary key makes a concurrent commit of the same key wait for ours, then take nothing), and an event with a key
 * is written only if it took it. Answers the ids written.
 */
const INSERT_KEYED_EVENTS = `WITH taken AS (
    INSERT INTO event_idempotency_keys (tenant_id, key, event_id, created_at)
    SELECT k.tenant_id, k.key, k.id, k.created_at FROM unnest($1::varchar[], $2::varchar[], $5::varchar[], $7::timestamptz[]) AS k(id, tenant_id, key, created_at)
    WHERE k.key IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING event_id)
  ${INSERT_EVENTS} WHERE e.idempotency_key IS NULL OR e.id IN (SELECT event_id FROM taken) RETURNING id`;

/** Parameters of INSERT_EVENTS; the deliveries' and the version check's follow them in the one-statement publish. */
const EVENT_PARAMS = 9;

const INSERT_DELIVERIES = `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at,
                          ordering_key, ordering_seq, ordering_after)
  SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id, d.event_type, 'pending', 0, coalesce(d.next_attempt_at, $7), 'initial', $7, $7, d.ordering_key, d.ordering_seq, d.ordering_after
  FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::timestamptz[], $8::varchar[], $9::bigint[], $10::varchar[])
    AS d(id, tenant_id, event_id, endpoint_id, event_type, next_attempt_at, ordering_key, ordering_seq, ordering_after)`;

/** $20, $21 (after the events' 9 and the deliveries' 10): tenants and the endpoint-list versions fan-out used; ok when every one is still current. */
const CURRENT_VERSIONS = `SELECT coalesce(bool_and(t.endpoints_version::text = x.version), true) AS ok
  FROM unnest($20::varchar[], $21::text[]) AS x(tenant_id, version) JOIN tenants t ON t.id = x.tenant_id`;

/**
 * Takes places in the lines (endpoint, orderingKey) of a commit: `n` new places in each, the line's row locked until
 * the commit. Rows are taken in the database's order of (endpoint_id, ordering_key), the same order AttemptRecorder
 * locks them in, so two transactions locking several lines cannot deadlock. `previous_event_id` answers the line's
 * latest event before this upsert (the first new delivery's predecessor).
 */
const TAKE_PLACES = `INSERT INTO ordering_lines (endpoint_id, ordering_key, last_seq, last_event_id, previous_event_id, updated_at)
  SELECT t.endpoint_id, t.ordering_key, t.n, t.last_event_id, NULL, now()
  FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::varchar[]) AS t(endpoint_id, ordering_key, n, last_event_id)
  ORDER BY t.endpoint_id, t.ordering_key
  ON CONFLICT (endpoint_id, ordering_key) DO UPDATE
    SET last_seq = ordering_lines.last_seq + excluded.last_seq, previous_event_id = ordering_lines.last_event_id,
        last_event_id = excluded.last_event_id, updated_at = now()
  RETURNING endpoint_id, ordering_key, last_seq::text AS last_seq, previous_event_id`;

/** A fan-out from a stale endpoint list: the transaction is rolled back and the commit made again. */
const STALE = Symbol('stale endpoint list');
/** How often a commit is made again because endpoint lists went stale under it. */
const MAX_STALE_RETRIES = 5;

function versionParams(versions: Map<string, string>): [string[], string[]] {
  return [[...versions.keys()], [...versions.values()]];
}

/** Delivery rows per INSERT: a large fan-out is written in several bounded statements of one transaction. */
export const DELIVERY_INSERT_ROWS = 5000;

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
    rows.map((r) => r.event.traceparent ?? null),
    rows.map((r) => (r.event.channels?.length ? JSON.stringify(r.event.channels) : null)),
  ];
}

function deliveryParams(deliveries: NewDelivery[], now: Date): unknown[] {
  return [
    deliveries.map((d) => d.id),
    deliveries.map((d) => d.tenantId),
    deliveries.map((d) => d.eventId),
    deliveries.map((d) => d.endpoint.id),
    deliveries.map((d) => d.eventType),
    deliveries.map((d) => (d.waiting ? WAITING_IN_LINE_AT : d.sendAt ? new Date(d.sendAt) : null)),
    now,
    deliveries.map((d) => d.orderingKey),
    deliveries.map((d) => (d.seq === undefined ? null : String(d.seq))),
    deliveries.map((d) => d.after ?? null),
  ];
}

/** Whether a delivery takes a place in a line (its endpoint orders by key and its event has one). */
function lined(d: NewDelivery): boolean {
  return takesPlaceInLine(d.endpoint.ordering, d.orderingKey);
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
    private readonly tracing: PublishTracing,
  ) {
    metrics.watchGroupCommitQueue('publish', () => this.waitingEvents);
  }

  /**
   * Refuses (422, nothing written, before joining a commit group) a request whose events would create more
   * delivery rows than HERALD_MAX_DELIVERIES_PER_REQUEST: that bounds the memory and the statements of
   * every commit, and one such request never fails the others.
   */
  async publish(events: NewEvent[]): Promise<PublishedEvent[]> {
    const started = performance.now();
    const deliveries = await this.countFanOut(events);
    const limit = this.config.limits.maxDeliveriesPerRequest;
    if (deliveries > limit) {
      throw new LimitExceededError(
        events.length > 1 ? 'events' : 'eventType',
        `this request would create ${deliveries} deliveries (events × matching endpoints), more than the ${limit} allowed per request (HERALD_MAX_DELIVERIES_PER_REQUEST); send fewer events per request`,
      );
    }
    this.shedWhenOverloaded(events.length);
    const trace = this.tracing.enabled ? this.tracing.current() : undefined;
    if (trace) events = events.map((e) => ({ ...e, traceparent: trace.traceparent }));
    return new Promise<PublishedEvent[]>((resolve, reject) => {
      const done = (result: PublishedEvent[]) => {
        this.metrics.publishDuration.observe((performance.now() - started) / 1000);
        resolve(result);
      };
      this.waiting.push({ events, deliveries, trace, resolve: done, reject });
      this.waitingEvents += events.length;
      this.schedule();
    });
  }

  /**
   * Under overload the queue of requests waiting for a commit would only grow, and every request would wait
   * longer than the last: past HERALD_PUBLISH_QUEUE_LIMIT waiting events a publish is refused at once (503,
   * Retry-After, nothing stored), so the accepted ones keep their latency and the producer backs off. A
   * request is never refused by an empty queue, whatever its size.
   */
  private shedWhenOverloaded(events: number): void {
    const limit = this.config.publishQueueLimit;
    if (this.waitingEvents === 0 || this.waitingEvents + events <= limit) return;
    this.metrics.publishShed.inc();
    throw new OverloadedError(`Herald is overloaded: ${this.waitingEvents} events are waiting to be committed (HERALD_PUBLISH_QUEUE_LIMIT is ${limit}); nothing was stored, retry later`);
  }

  /**
   * Delivery rows the events could create, for the per-request limit and the group's size. The bound (events ×
   * the tenant's enabled endpoints, from the cache) is enough unless it passes the limit: only then is each
   * event matched here, so a publish runs the subscription rules (filters included) once, in fanOut.
   */
  private async countFanOut(events: NewEvent[]): Promise<number> {
    let bound = 0;
    for (const event of events) bound += (await this.endpoints.enabledOf(event.tenantId)).endpoints.length;
    if (bound <= this.config.limits.maxDeliveriesPerRequest) return bound;
    let count = 0;
    for (const event of events) count += (await this.endpoints.matching(event.tenantId, event)).endpoints.length;
    return count;
  }

  // Two commits may run at once (the pool has room); more would only queue up inside PostgreSQL.
  // A group holds at most publishBatchMax events and maxDeliveriesPerRequest deliveries (one request may be alone above the first).
  private schedule(): void {
    if (this.flushing >= 2 || this.waiting.length === 0) return;
    const group: Waiting[] = [];
    let size = 0;
    let deliveries = 0;
    const fits = (next: Waiting) => size + next.events.length <= this.config.publishBatchMax && deliveries + next.deliveries <= this.config.limits.maxDeliveriesPerRequest;
    while (this.waiting.length && (size === 0 || fits(this.waiting[0]))) {
      const next = this.waiting.shift()!;
      size += next.events.length;
      deliveries += next.deliveries;
      group.push(next);
    }
    this.waitingEvents -= size;
    this.flushing++;
    void this.commitGroup(group).finally(() => {
      this.flushing--;
      this.schedule();
    });
  }

  /**
   * Commits a group. PostgreSQL unreachable or timing out: the whole group is tried once more (a pool that
   * was only saturated for a moment recovers), then every member gets its 503 at once rather than one
   * timeout after another. A data error (one request's bad value) is retried member by member, so it
   * fails only its own request.
   */
  private async commitGroup(group: Waiting[], retried = false): Promise<void> {
    try {
      const events = group.flatMap((w) => w.events);
      const results = await this.commit(events, this.spans(group, events.length));
      let offset = 0;
      for (const w of group) {
        w.resolve(results.slice(offset, offset + w.events.length));
        offset += w.events.length;
      }
    } catch (error) {
      if (isUnavailable(error)) {
        if (!retried) return this.commitGroup(group, true);
        for (const w of group) w.reject(error);
        return;
      }
      if (group.length === 1) return group[0].reject(error);
      for (const w of group) {
        await this.commit(w.events, this.spans([w], w.events.length)).then(w.resolve, w.reject);
      }
    }
  }

  /** The commit and enqueue spans of the requests in a group that carry a trace (none when tracing is off). */
  private spans(group: Waiting[], events: number): GroupSpans | null {
    const traced = group.filter((w) => w.trace);
    return traced.length ? this.tracing.commit(traced.map((w) => w.trace!.context), events) : null;
  }

  /**
   * Fan-out reads each tenant's endpoints from a cache; the statement that writes the deliveries checks the
   * tenants' endpoints_version against the cached one and writes nothing when a list was stale (an endpoint
   * changed and the invalidation message was missed): the lists are reloaded and the commit made again.
   */
  private async commit(events: NewEvent[], spans: GroupSpans | null = null): Promise<PublishedEvent[]> {
    try {
      for (let tries = 1; ; tries++) {
        const versions = new Map<string, string>();
        // The last try holds the tenants' endpoint lists still while it reads and writes: it cannot be stale.
        const result = await this.commitOnce(events, versions, spans, tries === MAX_STALE_RETRIES);
        if (result) return result;
        for (const tenantId of versions.keys()) this.endpoints.forgetTenant(tenantId);
        if (tries >= MAX_STALE_RETRIES) throw new Error('the endpoints of a tenant changed under a publish that held them');
      }
    } catch (error) {
      spans?.failed(error);
      throw error;
    }
  }

  /**
   * One commit; undefined (nothing written) when a cached endpoint list turned out stale. With `holdLists` (the last
   * try, when endpoints keep changing under a tenant: many created at once while publishing), the transaction first
   * takes the tenants' rows FOR SHARE, which holds off every endpoint change of theirs (its trigger updates the tenant
   * row) until the commit, then reads the lists afresh: they cannot turn stale. Rare, so its Redis call (rate-limit
   * slots, in fanOut) inside the transaction is accepted here.
   */
  private async commitOnce(events: NewEvent[], versions: Map<string, string>, spans: GroupSpans | null, holdLists = false): Promise<PublishedEvent[] | undefined> {
    const now = new Date();
    const rows: Row[] = events.map((event) => ({ id: newId('evt'), event, createdAt: now }));
    const enqueue: EnqueueItem[] = [];

    // A delivery waiting behind another of its line is queued when that one is finished, not now.
    const toEnqueue = (deliveries: NewDelivery[]) =>
      enqueue.push(...deliveries.filter((d) => !d.waiting).map((d) => ({ deliveryId: d.id, endpointId: d.endpoint.id, attempt: 1, slotAt: d.sendAt })));
    if (rows.some((r) => r.event.idempotencyKey)) {
      // PostgreSQL's default isolation (READ COMMITTED); naming it would cost a round trip per commit.
      const fresh = await this.db.transaction(async (tx) => {
        if (holdLists) await this.holdEndpointLists(tx, rows);
        await this.resolveIdempotency(tx, rows);
        const fresh = rows.filter((r) => !r.existing && !r.duplicateOf);
        if (fresh.length === 0) return true;
        const inserted: { id: string }[] = await tx.query(INSERT_KEYED_EVENTS, eventParams(fresh));
        if (inserted.length !== fresh.length) {
          // A concurrent commit took an idempotency key between our check and our insert: answer its event.
          const ids = new Set(inserted.map((r) => r.id));
          await this.resolveIdempotency(tx, fresh.filter((r) => !ids.has(r.id)), true);
        }
        const deliveries = await this.fanOut(rows, now, versions, holdLists);
        if (!(await this.versionsCurrent(tx, versions))) throw STALE;
        await this.takePlaces(tx, deliveries);
        await this.insertDeliveries(tx, deliveries, now);
        toEnqueue(deliveries);
        return true;
      }).catch((error) => {
        if (error === STALE) return false;
        throw error;
      });
      if (!fresh) return undefined;
    } else if (holdLists) {
      const deliveries = await this.db.transaction(async (tx) => {
        await this.holdEndpointLists(tx, rows);
        const deliveries = await this.fanOut(rows, now, versions, true);
        if (!(await this.versionsCurrent(tx, versions))) throw new Error('an endpoint list changed while its tenant was held');
        await tx.query(INSERT_EVENTS, eventParams(rows));
        await this.takePlaces(tx, deliveries);
        await this.insertDeliveries(tx, deliveries, now);
        return deliveries;
      });
      toEnqueue(deliveries);
    } else {
      const deliveries = await this.fanOut(rows, now, versions);
      // Deliveries to ordered endpoints take their places in a statement of their own, in the same transaction (the
      // one-statement publish stays as it was for everything else).
      if (deliveries.length <= DELIVERY_INSERT_ROWS && !deliveries.some(lined)) {
        // No idempotency keys: events and deliveries in one statement, so one round trip and one commit.
        const params = [...eventParams(rows), ...deliveryParams(deliveries, now), ...versionParams(versions)];
        const [{ ok }]: { ok: boolean }[] = await this.db.query(
          `WITH v AS (${CURRENT_VERSIONS}), e AS (${INSERT_EVENTS} WHERE (SELECT ok FROM v)), d AS (${renumber(INSERT_DELIVERIES, EVENT_PARAMS)} WHERE (SELECT ok FROM v)) SELECT ok FROM v`,
          params,
        );
        if (!ok) return undefined;
      } else {
        const ok = await this.db.transaction(async (tx) => {
          if (!(await this.versionsCurrent(tx, versions))) return false;
          await tx.query(INSERT_EVENTS, eventParams(rows));
          await this.takePlaces(tx, deliveries);
          await this.insertDeliveries(tx, deliveries, now);
          return true;
        });
        if (!ok) return undefined;
      }
      toEnqueue(deliveries);
    }

    this.metrics.recordPublished(rows.filter((r) => !r.duplicateOf && r.existing?.id === r.id).map((r) => r.event.tenantId));
    spans?.committed();
    const enqueued = this.enqueueAfterCommit(enqueue);
    spans?.enqueue(enqueue.length, enqueued);
    return rows.map((r) => (r.duplicateOf ? r.duplicateOf.existing! : r.existing!));
  }

  private async insertDeliveries(tx: EntityManager, deliveries: NewDelivery[], now: Date): Promise<void> {
    for (let i = 0; i < deliveries.length; i += DELIVERY_INSERT_ROWS) {
      await tx.query(INSERT_DELIVERIES, deliveryParams(deliveries.slice(i, i + DELIVERY_INSERT_ROWS), now));
    }
  }

  /**
   * Gives each delivery to an ordered endpoint its place in its line, in the order of `deliveries` (the order of the
   * events in the commit: a batch's own order). Publish order is the order of these places: see OrderingLine.
   *
   * Then marks the ones that must wait: all but the first of a line in this commit, and the first too when a delivery
   * of its line is still pending. That is read in a statement of its own, after the line's row is locked: its snapshot
   * sees every finish of the line that committed before (a finish locks the line too, see releaseLines), and a finish
   * not yet committed must wait for our commit and then sees our deliveries when it releases the next one.
   */
  private async takePlaces(tx: EntityManager, deliveries: NewDelivery[]): Promise<void> {
    const lines = new Map<string, NewDelivery[]>();
    for (const d of deliveries) {
      if (!lined(d)) continue;
      const key = `${d.endpoint.id}\u0000${d.orderingKey}`;
      const line = lines.get(key);
      if (line) line.push(d);
      else lines.set(key, [d]);
    }
    if (lines.size === 0) return;
    const list = [...lines.values()];
    const taken: { endpoint_id: string; ordering_key: string; last_seq: string; previous_event_id: string | null }[] = await tx.query(TAKE_PLACES, [
      list.map((l) => l[0].endpoint.id),
      list.map((l) => l[0].orderingKey),
      list.map((l) => l.length),
      list.map((l) => l[l.length - 1].eventId),
    ]);
    for (const row of taken) {
      const line = lines.get(`${row.endpoint_id}\u0000${row.ordering_key}`)!;
      const first = Number(row.last_seq) - line.length + 1;
      line.forEach((d, i) => {
        d.seq = first + i;
        d.after = i === 0 ? row.previous_event_id : line[i - 1].eventId;
        d.waiting = i > 0;
      });
    }
    // Only lines that had an event before may have one pending.
    const older = list.filter((l) => l[0].after);
    if (older.length === 0) return;
    const busy: { endpoint_id: string; ordering_key: string }[] = await tx.query(
      `SELECT DISTINCT d.endpoint_id, d.ordering_key FROM deliveries d
       JOIN unnest($1::varchar[], $2::varchar[]) AS x(endpoint_id, ordering_key) ON d.endpoint_id = x.endpoint_id AND d.ordering_key = x.ordering_key
       WHERE d.status = 'pending' AND d.ordering_seq IS NOT NULL`,
      [older.map((l) => l[0].endpoint.id), older.map((l) => l[0].orderingKey)],
    );
    for (const b of busy) lines.get(`${b.endpoint_id}\u0000${b.ordering_key}`)![0].waiting = true;
  }

  /** In a transaction: holds off changes to the events' tenants' endpoint lists until the commit (fanOut then reads them fresh). */
  private async holdEndpointLists(tx: EntityManager, rows: Row[]): Promise<void> {
    const tenants = [...new Set(rows.map((r) => r.event.tenantId))].sort();
    await tx.query(`SELECT 1 FROM tenants WHERE id = ANY($1::varchar[]) ORDER BY id FOR SHARE`, [tenants]);
  }

  /** In a transaction: the tenants' endpoint lists are still those fan-out used; FOR SHARE holds off changes (their trigger updates the tenant row) until the commit. */
  private async versionsCurrent(tx: EntityManager, versions: Map<string, string>): Promise<boolean> {
    const [tenants, current] = versionParams(versions);
    if (tenants.length === 0) return true;
    const locked: { id: string; version: string }[] = await tx.query(`SELECT id, endpoints_version::text AS version FROM tenants WHERE id = ANY($1::varchar[]) FOR SHARE`, [tenants]);
    return locked.every((t) => t.version === current[tenants.indexOf(t.id)]);
  }

  /**
   * One delivery per enabled endpoint that subscribes, for each row to be written; their send slots when
   * throttled. `versions` collects the version of each tenant's endpoint list used.
   */
  private async fanOut(rows: Row[], now: Date, versions: Map<string, string>, fresh = false): Promise<NewDelivery[]> {
    const deliveries: NewDelivery[] = [];
    // One list per tenant for the whole commit (read from PostgreSQL when `fresh`), so its version is the one checked.
    const lists = new Map<string, TenantEndpoints>();
    for (const row of rows) {
      if (row.existing || row.duplicateOf) continue;
      let list = lists.get(row.event.tenantId);
      if (!list) lists.set(row.event.tenantId, (list = await this.endpoints.enabledOf(row.event.tenantId, fresh)));
      const matching = list.endpoints.filter((e) => subscribes(e, row.event));
      const version = list.version;
      versions.set(row.event.tenantId, version);
      row.existing = { id: row.id, eventType: row.event.eventType, createdAt: now.toISOString(), deliveryCount: matching.length };
      for (const endpoint of matching) {
        deliveries.push({ id: newId('dlv'), tenantId: row.event.tenantId, eventId: row.id, endpoint, eventType: row.event.eventType, orderingKey: row.event.orderingKey ?? null });
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
        `WITH released AS (
           DELETE FROM event_idempotency_keys i USING unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key)
           WHERE i.tenant_id = k.tenant_id AND i.key = k.key AND i.created_at < now() - interval '24 hours' RETURNING i.event_id)
         UPDATE events e SET idempotency_key = NULL FROM released WHERE e.id = released.event_id`,
        [tenants, keys],
      );
    }
    const found: { id: string; tenant_id: string; idempotency_key: string; event_type: string; created_at: Date; delivery_count: number }[] = await tx.query(
      `SELECT e.id, e.tenant_id, e.idempotency_key, e.event_type, e.created_at,
              (SELECT count(*)::int FROM deliveries d WHERE d.event_id = e.id) AS delivery_count
       FROM unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key)
       JOIN event_idempotency_keys i ON i.tenant_id = k.tenant_id AND i.key = k.key
       JOIN events e ON e.id = i.event_id`,
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
      // A delivery in a line waits for its predecessor: a slot reserved now would be long gone when it may go.
      if (!d.endpoint.rateLimitPerSecond || lined(d)) continue;
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
  private enqueueAfterCommit(items: EnqueueItem[]): Promise<void> {
    return this.scheduler.dispatch(items, 'publish');
  }
}
