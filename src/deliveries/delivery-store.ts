import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isUndefinedTable } from '../common/error.filter';
import { TickBatch } from '../common/tick-batch';
import { DayRelations, Relation } from '../database/day-relations';
import { prepared, runPrepared } from '../database/prepared';
import { MetricsService } from '../metrics/metrics.service';
import { WAITING_IN_LINE_SQL } from '../endpoints/ordering';
import { ReleasedHead } from './attempt-plan';
import { AttemptTrigger } from './delivery.entity';

/** A delivery claimed for one attempt, with what the attempt needs of its event. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  /** Attempts made so far: this attempt is number attemptCount + 1. */
  attemptCount: number;
  trigger: AttemptTrigger;
  /** The stored payload: the exact bytes that are signed and sent. */
  payload: string;
  sourceHeaders: Record<string, string> | null;
  /** The publish request's traceparent (the attempt's span continues its trace); null when not traced. */
  traceContext: string | null;
  /** The key of its line when it is in one (ordered delivery): finishing it releases the line's next delivery. */
  lineKey: string | null;
}

/** A line (endpoint, orderingKey) of ordered delivery. */
export interface Line {
  endpointId: string;
  orderingKey: string;
}

interface ClaimRequest {
  deliveryId: string;
  attempt: number;
  leaseMs: number;
}

interface ClaimRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  attempt_count: number;
  next_trigger: AttemptTrigger;
  payload: string;
  source_headers: Record<string, string> | null;
  trace_context: string | null;
  line_key: string | null;
}

/**
 * A job runs a little before its row's time (its slot's lead, a clock a little ahead): earlier than this and
 * it is not the attempt's job but a stray one (say, the sweeper's, just before a deferral moved the row on).
 */
const EARLY_TOLERANCE = `interval '2 seconds'`;

/**
 * A pending delivery that is due (give or take EARLY_TOLERANCE) and that no run holds: what both claim statements ask
 * of a row besides its attempt count. `d` is the delivery's alias.
 *
 * (d.status || ''), not d.status: the rows must be found by their primary key. With a plain status test, a planner
 * whose statistics of a day partition say "no pending rows" (a backlog published since the last ANALYZE) reads every
 * pending row of the partition through a partial index on status and hash-joins them with the input, once per claim:
 * a 50 000-delivery drain ran 4.5 times slower. The expression matches no index, so the plan is a primary-key lookup
 * per row whatever the statistics say.
 */
const CLAIMABLE = (d: string) =>
  `(${d}.status || '') = 'pending' AND ${d}.next_attempt_at IS NOT NULL AND ${d}.next_attempt_at <= now() + ${EARLY_TOLERANCE}
   AND (${d}.claimed_until IS NULL OR ${d}.claimed_until < now())`;

/**
 * A delivery that may be attempted as far as ordering goes: in no line, or its line's head (no delivery of its line
 * with a smaller place is pending). `d` is the delivery's alias. For a delivery in no line this is the first test
 * alone, so the hot path of unordered endpoints costs nothing more; for one in a line it is an index probe
 * (deliveries_line_waiting_idx). The claim and the sweeper use this one definition.
 */
export const HEAD_OF_LINE = (d: string) =>
  `(${d}.ordering_seq IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = ${d}.endpoint_id AND p.ordering_key = ${d}.ordering_key
     AND p.status = 'pending' AND p.ordering_seq IS NOT NULL AND p.ordering_seq < ${d}.ordering_seq))`;

/**
 * The claim of deliveries in no line, naming the day partition `day` (DeliveryStore.claimUnordered): $1 the ids, $2
 * and $3 each id's attempt and lease in milliseconds, as JSON objects.
 */
function claimUnorderedSql(day: Relation) {
  return prepared(`WITH claimed AS (
     UPDATE ${day('deliveries')} d SET claimed_until = now() + make_interval(secs => ($3::jsonb ->> d.id)::float / 1000)
     WHERE d.id = ANY($1::varchar[]) AND d.attempt_count + 1 = ($2::jsonb ->> d.id)::int AND ${CLAIMABLE('d')}
       AND d.ordering_seq IS NULL
     RETURNING d.id, d.event_id, d.endpoint_id, d.event_type, d.attempt_count, d.next_trigger, NULL::varchar AS line_key
   )
   -- The event is nearly always of the delivery's day (one publish makes both); a replay's, or one published
   -- just before midnight, is looked up in the whole table afterwards.
   SELECT c.*, e.id IS NOT NULL AS found, e.payload, e.source_headers, e.trace_context FROM claimed c LEFT JOIN ${day('events')} e ON e.id = c.event_id`);
}

/** The claim of any deliveries, in a line or not, of any day (DeliveryStore.claimAny): $1 ids, $2 attempts, $3 leases. */
const CLAIM_ANY = prepared(`WITH input AS (SELECT * FROM unnest($1::varchar[], $2::int[], $3::int[]) AS t(id, attempt, lease_ms)),
   claimed AS (
     UPDATE deliveries d SET claimed_until = now() + make_interval(secs => i.lease_ms::float / 1000)
     FROM input i
     -- d.id = ANY($1) prunes the partitions that cannot hold them while the statement is planned, and bounds what
     -- the scan of the one that does can return, whatever the join.
     WHERE d.id = i.id AND d.id = ANY($1::varchar[]) AND d.attempt_count = i.attempt - 1 AND ${CLAIMABLE('d')}
       AND ${HEAD_OF_LINE('d')}
     RETURNING d.id, d.event_id, d.endpoint_id, d.event_type, d.attempt_count, d.next_trigger,
               CASE WHEN d.ordering_seq IS NOT NULL THEN d.ordering_key END AS line_key
   )
   SELECT c.*, e.payload, e.source_headers, e.trace_context FROM claimed c JOIN events e ON e.id = c.event_id`);

/**
 * In the transaction that finished the heads of these lines (made them succeeded or dead): locks the lines (in the
 * same order as a publish does, so the two cannot deadlock), then makes each line's new head due now (it was written
 * waiting, WAITING_IN_LINE_AT) and answers them, for the caller to queue once the transaction commits.
 *
 * Why the lock, and why its own statements: a publish of the same line holds the line's row until it commits. Once
 * we hold it, every delivery published before is committed, and the next statement's snapshot (READ COMMITTED:
 * one per statement) sees it; every delivery published after commits after us, so its own job, claimed after its
 * commit, sees our head finished. Without it, a delivery committed between our snapshot and our commit would be
 * seen by neither: its job dropped (our head still pending to it), our release not finding it.
 */
export async function releaseLines(tx: EntityManager, lines: Line[]): Promise<ReleasedHead[]> {
  if (!lines.length) return [];
  const endpoints = lines.map((l) => l.endpointId);
  const keys = lines.map((l) => l.orderingKey);
  await tx.query(
    `SELECT 1 FROM ordering_lines l JOIN unnest($1::varchar[], $2::varchar[]) AS x(endpoint_id, ordering_key) ON l.endpoint_id = x.endpoint_id AND l.ordering_key = x.ordering_key
     ORDER BY l.endpoint_id, l.ordering_key FOR UPDATE OF l`,
    [endpoints, keys],
  );
  const [rows]: [{ id: string; endpoint_id: string; ordering_key: string; attempt_count: number; next_attempt_at: Date }[], number] = await tx.query(
    `WITH heads AS (
       SELECT DISTINCT ON (d.endpoint_id, d.ordering_key) d.id
       FROM deliveries d JOIN unnest($1::varchar[], $2::varchar[]) AS x(endpoint_id, ordering_key) ON d.endpoint_id = x.endpoint_id AND d.ordering_key = x.ordering_key
       WHERE d.status = 'pending' AND d.ordering_seq IS NOT NULL
       ORDER BY d.endpoint_id, d.ordering_key, d.ordering_seq
     )
     UPDATE deliveries d SET next_attempt_at = CASE WHEN d.next_attempt_at >= ${WAITING_IN_LINE_SQL} THEN now() ELSE greatest(d.next_attempt_at, now()) END, updated_at = now()
     FROM heads WHERE d.id = heads.id AND d.next_attempt_at IS NOT NULL
     RETURNING d.id, d.endpoint_id, d.ordering_key, d.attempt_count, d.next_attempt_at`,
    [endpoints, keys],
  );
  return rows.map((r) => ({ deliveryId: r.id, endpointId: r.endpoint_id, orderingKey: r.ordering_key, attemptCount: r.attempt_count, nextAttemptAt: r.next_attempt_at }));
}

/**
 * The delivery rows as the worker moves them: claimed for an attempt, deferred, parked or finished without
 * one. Every statement checks the row is still where the caller saw it (pending, same attempt count), so a
 * stale or duplicate run changes nothing.
 */
@Injectable()
export class DeliveryStore {
  private readonly claims = new TickBatch<ClaimRequest, ClaimedDelivery | undefined>((requests) => this.claimBatch(requests));
  private readonly days = new DayRelations();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /**
   * Claims the delivery for this attempt, or answers undefined: it moved on (purged, finished, attempted
   * already), is not due yet, or another run holds it. The claim is the attempt's lock: it lasts until the
   * attempt is recorded or deferred, or `leaseMs` passes (the worker died), and it is taken in the same
   * statement that checks the row, so two runs of one attempt can never both send it. Claims of jobs that
   * start together share one statement, which also loads the event.
   */
  claim(deliveryId: string, attempt: number, leaseMs: number): Promise<ClaimedDelivery | undefined> {
    return this.claims.submit({ deliveryId, attempt, leaseMs });
  }

  /** Deliveries claimed by the last batch (a gauge for metrics). */
  get lastClaimBatch(): number {
    return this.claims.lastSize;
  }

  /**
   * Moves the attempt `delayMs` later without making it and lets the claim go; false if the row moved on.
   * A resend asked for meanwhile makes the deferred attempt a manual one.
   */
  async defer(id: string, attemptCount: number, delayMs: number): Promise<boolean> {
    const [, updated] = await this.db.query(
      `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $3::float / 1000), claimed_until = NULL,
              next_trigger = CASE WHEN resend_requested THEN 'manual' ELSE next_trigger END, resend_requested = false, updated_at = now()
       WHERE id = $1 AND status = 'pending' AND attempt_count = $2`,
      [id, attemptCount, Math.max(0, Math.ceil(delayMs))],
    );
    return updated > 0;
  }

  /**
   * Parks the delivery (no next attempt time) while its endpoint is disabled, judged in the same statement from
   * the endpoint's row, not from a cache: 'enabled' when the endpoint was enabled meanwhile (nothing changed).
   */
  async park(id: string, attemptCount: number): Promise<'parked' | 'enabled' | 'moved'> {
    const [row]: { disabled: boolean | null; parked: number }[] = await this.db.query(
      `WITH endpoint AS (SELECT e.disabled FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id WHERE d.id = $1),
       parked AS (
         UPDATE deliveries d SET next_attempt_at = NULL, claimed_until = NULL, updated_at = now()
         WHERE d.id = $1 AND d.status = 'pending' AND d.attempt_count = $2 AND (SELECT disabled FROM endpoint)
         RETURNING d.id
       )
       SELECT (SELECT disabled FROM endpoint) AS disabled, (SELECT count(*)::int FROM parked) AS parked`,
      [id, attemptCount],
    );
    if (row?.parked) return 'parked';
    return row?.disabled === false ? 'enabled' : 'moved';
  }

  /**
   * No attempt is possible (the endpoint was deleted): dead-lettered with the reason. A delivery in a line releases
   * the line's next delivery in the same transaction (answered in `released`, for the caller to queue).
   */
  async finishWithoutAttempt(delivery: Pick<ClaimedDelivery, 'id' | 'endpointId' | 'lineKey'>, reason: string): Promise<{ finished: boolean; released: ReleasedHead[] }> {
    const finish = async (db: EntityManager | DataSource) => {
      const [, updated] = await db.query(
        `UPDATE deliveries SET status = 'dead', last_error = $2, next_attempt_at = NULL, claimed_until = NULL, resend_requested = false, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [delivery.id, reason],
      );
      return updated > 0;
    };
    if (delivery.lineKey === null) return { finished: await finish(this.db), released: [] };
    return this.db.transaction(async (tx) => {
      if (!(await finish(tx))) return { finished: false, released: [] };
      return { finished: true, released: await releaseLines(tx, [{ endpointId: delivery.endpointId, orderingKey: delivery.lineKey! }]) };
    });
  }

  /**
   * Lets a claim go without an attempt, due again now: for an attempt Herald itself cut off (a stop that ran out
   * of grace) — not the receiver's failure, so nothing is recorded and another worker makes it.
   */
  async release(id: string, attemptCount: number): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET claimed_until = NULL, next_attempt_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending' AND attempt_count = $2`,
      [id, attemptCount],
    );
  }

  /** Extends a claim held while waiting (for an in-flight lease); false if it was lost meanwhile. */
  async extend(id: string, attemptCount: number, leaseMs: number): Promise<boolean> {
    const [, updated] = await this.db.query(
      `UPDATE deliveries SET claimed_until = now() + make_interval(secs => $3::float / 1000)
       WHERE id = $1 AND status = 'pending' AND attempt_count = $2 AND claimed_until IS NOT NULL`,
      [id, attemptCount, Math.ceil(leaseMs)],
    );
    return updated > 0;
  }

  /** The endpoint of a delivery (for jobs written before they carried it). */
  async endpointOf(deliveryId: string): Promise<string | undefined> {
    const [row]: { endpoint_id: string }[] = await this.db.query(`SELECT endpoint_id FROM deliveries WHERE id = $1`, [deliveryId]);
    return row?.endpoint_id;
  }

  private async claimBatch(requests: ClaimRequest[]): Promise<(ClaimedDelivery | undefined)[]> {
    // Two jobs of one attempt in one batch: only the first may have it.
    this.metrics?.observeStateLoadBatch(requests.length);
    const first = new Map<string, ClaimRequest>();
    for (const r of requests) if (!first.has(r.deliveryId)) first.set(r.deliveryId, r);
    const rows = await this.claimRows([...first.values()]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return requests.map((r) => {
      const row = first.get(r.deliveryId) === r ? byId.get(r.deliveryId) : undefined;
      if (!row) return undefined;
      return {
        id: row.id,
        eventId: row.event_id,
        endpointId: row.endpoint_id,
        eventType: row.event_type,
        attemptCount: row.attempt_count,
        trigger: row.next_trigger,
        payload: row.payload,
        sourceHeaders: row.source_headers,
        traceContext: row.trace_context,
        lineKey: row.line_key,
      };
    });
  }

  /**
   * The claim costs one statement planned over one day's partitions in the common case: the deliveries in no line,
   * claimed in the day partition their ids name (DayRelations). What it did not claim (deliveries in a line, whose head
   * test reads the line in every partition; jobs of several days; jobs whose row moved on) goes through the full
   * statement, which answers for each of them exactly as it would have alone.
   */
  private async claimRows(unique: ClaimRequest[]): Promise<ClaimRow[]> {
    const ids = unique.map((r) => r.deliveryId);
    const day = this.days.of(ids);
    let fast: ClaimRow[] = [];
    if (day) {
      try {
        fast = await this.claimUnordered(unique, day);
      } catch (error) {
        if (!isUndefinedTable(error)) throw error;
        this.days.forget(ids);
      }
    }
    if (fast.length === unique.length) return fast;
    const claimed = new Set(fast.map((r) => r.id));
    return [...fast, ...(await this.claimAny(unique.filter((r) => !claimed.has(r.deliveryId))))];
  }

  /**
   * Claims the deliveries in no line among these, in the day partition `day` names, and loads their events.
   *
   * The rows are found with `id = ANY($1)` and no join: with a join to the input, a planner whose statistics of the
   * partition were missing or stale (a backlog published since the last ANALYZE) estimated one matching row, scanned
   * the partition as the outer side of a nested loop and re-read the input for each of its rows: 4.7 s for 200 claims
   * in a 50 000-row partition. Without a join, the worst a bad estimate can do is one pass over the partition, and only
   * where the planner knows it to be small next to the batch (it reads a partition's real size when it plans). The
   * attempt and lease of each row are looked up by id in a JSON object.
   */
  private async claimUnordered(unique: ClaimRequest[], day: Relation): Promise<ClaimRow[]> {
    const rows = await runPrepared<ClaimRow & { found: boolean }>(
      this.db,
      claimUnorderedSql(day),
      [
        unique.map((r) => r.deliveryId),
        JSON.stringify(Object.fromEntries(unique.map((r) => [r.deliveryId, r.attempt]))),
        JSON.stringify(Object.fromEntries(unique.map((r) => [r.deliveryId, Math.ceil(r.leaseMs)]))),
      ],
    );
    const elsewhere = rows.filter((r) => !r.found);
    if (!elsewhere.length) return rows;
    const events: (Pick<ClaimRow, 'payload' | 'source_headers' | 'trace_context'> & { id: string })[] = await this.db.query(
      `SELECT id, payload, source_headers, trace_context FROM events WHERE id = ANY($1::varchar[])`,
      [elsewhere.map((r) => r.event_id)],
    );
    const byId = new Map(events.map((e) => [e.id, e]));
    // A claimed delivery whose event is nowhere (deliveries go with their event) is left to its lease, as claimAny leaves it.
    return rows.flatMap((r) => {
      if (r.found) return [r];
      const event = byId.get(r.event_id);
      return event ? [{ ...r, payload: event.payload, source_headers: event.source_headers, trace_context: event.trace_context }] : [];
    });
  }

  /** Claims any of these deliveries, in a line or not, of any day: one statement over the whole tables. */
  private claimAny(unique: ClaimRequest[]): Promise<ClaimRow[]> {
    return runPrepared<ClaimRow>(this.db, CLAIM_ANY, [unique.map((r) => r.deliveryId), unique.map((r) => r.attempt), unique.map((r) => Math.ceil(r.leaseMs))]);
  }
}
