import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
import {
  DELIVERY_INSERT_ROWS,
  NewDelivery,
  NewEvent,
  PublishedEvent,
  Row,
  holdEndpointLists,
  insertDeliveries,
  insertEvents,
  insertEventsAndDeliveries,
  insertKeyedEvents,
  lined,
  resolveIdempotency,
  takePlaces,
  versionsCurrent,
} from './publish-writes';

interface Waiting {
  events: NewEvent[];
  /** Delivery rows its events fan out to (counted before it joins a group). */
  deliveries: number;
  trace?: PublishTrace;
  resolve: (result: PublishedEvent[]) => void;
  reject: (error: unknown) => void;
}

/** A fan-out from a stale endpoint list: the transaction is rolled back and the commit made again. */
const STALE = Symbol('stale endpoint list');
/** How often a commit is made again because endpoint lists went stale under it. */
const MAX_STALE_RETRIES = 5;
/** Events waiting before a second commit runs beside the first (see schedule). */
const SECOND_COMMIT_AFTER = 8;

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

  // Two commits may run at once (the pool has room); more would only queue up inside PostgreSQL. The second starts only
  // once SECOND_COMMIT_AFTER events wait: at a moderate rate the requests that arrive during a commit share the next
  // one instead of each taking a commit of its own (a commit costs the same for one event as for ten).
  // A group holds at most publishBatchMax events and maxDeliveriesPerRequest deliveries (one request may be alone above the first).
  private schedule(): void {
    if (this.flushing >= 2 || this.waiting.length === 0) return;
    if (this.flushing === 1 && this.waitingEvents < SECOND_COMMIT_AFTER) return;
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
   * row) until the commit, then reads the lists afresh: they cannot turn stale.
   *
   * No Redis call runs inside a transaction (it would hold the transaction's locks for as long as Redis takes): the
   * deliveries fanned out inside one are written without send slots, and the worker reserves those of a rate-limited
   * endpoint when it takes them.
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
        if (holdLists) await holdEndpointLists(tx, rows);
        await resolveIdempotency(tx, rows);
        const fresh = rows.filter((r) => !r.existing && !r.duplicateOf);
        if (fresh.length === 0) return true;
        const inserted = await insertKeyedEvents(tx, fresh);
        if (inserted.length !== fresh.length) {
          // A concurrent commit took an idempotency key between our check and our insert: answer its event.
          const ids = new Set(inserted.map((r) => r.id));
          await resolveIdempotency(tx, fresh.filter((r) => !ids.has(r.id)), true);
        }
        const deliveries = await this.fanOut(rows, now, versions, holdLists);
        if (!(await versionsCurrent(tx, versions))) throw STALE;
        await takePlaces(tx, deliveries);
        await insertDeliveries(tx, deliveries, now);
        toEnqueue(deliveries);
        return true;
      }).catch((error) => {
        if (error === STALE) return false;
        throw error;
      });
      if (!fresh) return undefined;
    } else if (holdLists) {
      const deliveries = await this.db.transaction(async (tx) => {
        await holdEndpointLists(tx, rows);
        const deliveries = await this.fanOut(rows, now, versions, true);
        if (!(await versionsCurrent(tx, versions))) throw new Error('an endpoint list changed while its tenant was held');
        await insertEvents(tx, rows);
        await takePlaces(tx, deliveries);
        await insertDeliveries(tx, deliveries, now);
        return deliveries;
      });
      toEnqueue(deliveries);
    } else {
      const deliveries = await this.fanOut(rows, now, versions);
      await this.reserveSlots(deliveries);
      // Deliveries to ordered endpoints take their places in a statement of their own, in the same transaction (the
      // one-statement publish stays as it was for everything else).
      if (deliveries.length <= DELIVERY_INSERT_ROWS && !deliveries.some(lined)) {
        // No idempotency keys: events and deliveries in one statement, so one round trip and one commit.
        if (!(await insertEventsAndDeliveries(this.db, rows, deliveries, versions, now))) return undefined;
      } else {
        const ok = await this.db.transaction(async (tx) => {
          if (!(await versionsCurrent(tx, versions))) return false;
          await insertEvents(tx, rows);
          await takePlaces(tx, deliveries);
          await insertDeliveries(tx, deliveries, now);
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

  /**
   * One delivery per enabled endpoint that subscribes, for each row to be written. `versions` collects the version
   * of each tenant's endpoint list used.
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
    return deliveries;
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
