import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AttemptWindowView, StatsPointView, StatsSeriesView } from './dto/endpoint-stats.dto';
import { Histogram, LATENCY_BUCKET_SQL, addTo, percentile } from './latency-histogram';
import { SeriesWindow, firstIdAt } from './stats-window';

/**
 * The stats API reads a busy endpoint's day (a million attempts) from a rollup, not from the attempts: per
 * endpoint and GRANULE_MS, the attempts, successes, a latency histogram and the deliveries created
 * (endpoint_stat_granules). A granule is rolled up by the first request that needs it once it has been
 * closed for ROLLUP_GRACE_MS (an attempt row is written when the attempt ends: at most an endpoint's timeout,
 * 60 s, after it started, then a group commit); what is younger, and the window's edges that are not whole
 * granules, are read from the rows themselves. Percentiles come from the histograms (within 1 %).
 * Attempts are also bounded by id, which skips the day partitions before the range (an attempt's id is made
 * after it started); deliveries are bounded by id (with some slack: the application makes the id,
 * PostgreSQL the created_at).
 */
export const GRANULE_MS = 10 * 60_000;
export const ROLLUP_GRACE_MS = 5 * 60_000;
/** Ids are time-sorted but made by the application, created_at by PostgreSQL: id bounds get this much slack. */
const ID_SLACK_MS = 60_000;

/** What a range of time holds for a set of endpoints, per bucket of `stepMs` from `from`. */
export interface Span {
  from: Date;
  to: Date;
  stepMs: number;
}

export interface BucketFigures {
  attempts: number;
  succeeded: number;
  latency: Histogram;
  /** deliveries created in the bucket */
  created: number;
}

export interface Collected {
  buckets: Map<number, BucketFigures>;
  total: BucketFigures;
}

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

/** The part of a span read from the rollup: whole granules, closed long enough, that fall in whole buckets. */
export function rolledPart(span: Span, now: Date): { from: number; to: number } | null {
  const from = span.from.getTime();
  const to = span.to.getTime();
  const oneBucket = span.stepMs >= to - from;
  if (!oneBucket && (span.stepMs % GRANULE_MS !== 0 || from % GRANULE_MS !== 0)) return null;
  const a = ceilTo(from, GRANULE_MS);
  const b = Math.min(floorTo(to, GRANULE_MS), floorTo(now.getTime() - ROLLUP_GRACE_MS, GRANULE_MS));
  return b > a ? { from: a, to: b } : null;
}

/** Rolls up, once, what the spans' reads will take from the rollup (then collect(…, rollUp = false) reads them side by side). */
export async function rollUpFor(db: DataSource, endpointIds: string[], spans: Span[], now: Date): Promise<void> {
  const parts = spans.map((s) => rolledPart(s, now)).filter((p) => p !== null);
  if (!parts.length || !endpointIds.length) return;
  // the spans all end now: their rolled parts overlap, so their union is one range
  await ensureRolledUp(db, endpointIds, Math.min(...parts.map((p) => p.from)), Math.max(...parts.map((p) => p.to)));
}

/** Rolls up the granules of [from, to) that these endpoints have not rolled up yet (once; concurrent callers write the same rows). */
export async function ensureRolledUp(db: DataSource, endpointIds: string[], from: number, to: number): Promise<void> {
  // granules once written stay (until the retention purge): what this process rolled up or saw marked needs no new look
  const ids = idsKey(endpointIds);
  const known = coveredKept.get(ids);
  if (known && known.from <= from && known.to >= to) return;
  await rollUp(db, endpointIds, from, to);
  keep(coveredKept, ids, known && known.to >= from && known.from <= to ? { from: Math.min(from, known.from), to: Math.max(to, known.to) } : { from, to });
}

async function rollUp(db: DataSource, endpointIds: string[], from: number, to: number): Promise<void> {
  const marks: { endpoint_id: string; rolled_from: Date; rolled_to: Date }[] = await db.query(
    `SELECT endpoint_id, rolled_from, rolled_to FROM endpoint_stat_marks WHERE endpoint_id = ANY($1)`,
    [endpointIds],
  );
  const byId = new Map(marks.map((m) => [m.endpoint_id, { from: m.rolled_from.getTime(), to: m.rolled_to.getTime() }]));
  const todo = new Map<string, { from: number; to: number; ids: string[] }>();
  const newMarks: { id: string; from: number; to: number }[] = [];
  for (const id of endpointIds) {
    const m = byId.get(id);
    const ranges: [number, number][] = [];
    let mark: { from: number; to: number };
    if (m && m.to >= from && m.from <= to) {
      if (from < m.from) ranges.push([from, m.from]);
      if (m.to < to) ranges.push([m.to, to]);
      mark = { from: Math.min(from, m.from), to: Math.max(to, m.to) };
    } else {
      ranges.push([from, to]);
      mark = { from, to };
    }
    if (!ranges.length) continue;
    for (const [f, t] of ranges) {
      const key = `${f}:${t}`;
      const group = todo.get(key) ?? { from: f, to: t, ids: [] };
      group.ids.push(id);
      todo.set(key, group);
    }
    newMarks.push({ id, ...mark });
  }
  if (!newMarks.length) return;
  for (const { from: f, to: t, ids } of todo.values()) {
    await db.query(
      `INSERT INTO endpoint_stat_granules (endpoint_id, start, attempts, succeeded, latency_buckets, latency_counts, deliveries)
       SELECT endpoint_id, g, sum(n)::int, sum(ok)::int,
              coalesce(array_agg(h ORDER BY h) FILTER (WHERE h IS NOT NULL), '{}'),
              coalesce(array_agg(n::int ORDER BY h) FILTER (WHERE h IS NOT NULL), '{}'), sum(d)::int
       FROM (
         SELECT endpoint_id, to_timestamp(floor(extract(epoch FROM started_at) * 1000 / $6) * $6 / 1000) AS g, ${LATENCY_BUCKET_SQL} AS h,
                count(*) AS n, count(*) FILTER (WHERE error IS NULL AND status_code BETWEEN 200 AND 299) AS ok, 0 AS d
         FROM attempts WHERE endpoint_id = ANY($1) AND started_at >= $2 AND started_at < $3 AND id >= $7
         GROUP BY 1, 2, 3
         UNION ALL
         SELECT endpoint_id, to_timestamp(floor(extract(epoch FROM created_at) * 1000 / $6) * $6 / 1000), NULL, 0, 0, count(*)
         FROM deliveries WHERE endpoint_id = ANY($1) AND id >= $4 AND id < $5 AND created_at >= $2 AND created_at < $3
         GROUP BY 1, 2) x
       GROUP BY endpoint_id, g
       ON CONFLICT (endpoint_id, start) DO NOTHING`,
      [ids, new Date(f), new Date(t), firstIdAt('dlv', new Date(f - ID_SLACK_MS)), firstIdAt('dlv', new Date(t + ID_SLACK_MS)), GRANULE_MS, firstIdAt('att', new Date(f))],
    );
  }
  // the marks grow only over granules just written or already covered (a concurrent writer's disjoint mark is replaced, never bridged)
  await db.query(
    `INSERT INTO endpoint_stat_marks (endpoint_id, rolled_from, rolled_to)
     SELECT u.id, u.f, u.t FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[]) AS u(id, f, t) JOIN endpoints e ON e.id = u.id
     ON CONFLICT (endpoint_id) DO UPDATE SET
       rolled_from = CASE WHEN endpoint_stat_marks.rolled_to >= EXCLUDED.rolled_from AND endpoint_stat_marks.rolled_from <= EXCLUDED.rolled_to
                          THEN least(endpoint_stat_marks.rolled_from, EXCLUDED.rolled_from) ELSE EXCLUDED.rolled_from END,
       rolled_to = CASE WHEN endpoint_stat_marks.rolled_to >= EXCLUDED.rolled_from AND endpoint_stat_marks.rolled_from <= EXCLUDED.rolled_to
                        THEN greatest(endpoint_stat_marks.rolled_to, EXCLUDED.rolled_to) ELSE EXCLUDED.rolled_to END`,
    [newMarks.map((m) => m.id), newMarks.map((m) => new Date(m.from)), newMarks.map((m) => new Date(m.to))],
  );
}

export const seriesSpan = (w: SeriesWindow): Span => ({ from: w.from, to: w.to, stepMs: w.stepMs });

const empty = (): BucketFigures => ({ attempts: 0, succeeded: 0, latency: new Map(), created: 0 });

/** Closed granules never change, so what a span reads from them is kept, per process (the most recent KEPT answers). */
const KEPT = 256;
const rolledKept = new Map<string, Map<number, BucketFigures>>();
const createdKept = new Map<string, { before: string; n: number }>();
const coveredKept = new Map<string, { from: number; to: number }>();

/** A short key for a set of endpoints (a tenant's may be a thousand ids). */
function idsKey(endpointIds: string[]): string {
  return createHash('sha1').update(endpointIds.join(',')).digest('base64');
}

function keep<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > KEPT) cache.delete(cache.keys().next().value as string);
}

export type FigureRow = { i: number; h: number | null; attempts: number; succeeded: number | null; created: number | null };

function addRows(buckets: Map<number, BucketFigures>, rows: FigureRow[]): void {
  for (const r of rows) {
    const bucket = buckets.get(r.i) ?? empty();
    buckets.set(r.i, bucket);
    if (r.h === null) {
      bucket.attempts += r.attempts;
      bucket.succeeded += r.succeeded ?? 0;
      bucket.created += r.created ?? 0;
    } else addTo(bucket.latency, r.h, r.attempts);
  }
}

/** Attempts and deliveries created per bucket of the span, from the rows of [from, to). */
function rowFigures(db: DataSource, tenantId: string, endpointIds: string[], span: Span, from: Date, to: Date): Promise<FigureRow[]> {
  return db.query(
    `WITH raw AS MATERIALIZED (
       SELECT floor(extract(epoch FROM started_at - $2::timestamptz) * 1000 / $3)::int AS i, ${LATENCY_BUCKET_SQL} AS h,
              (error IS NULL AND status_code BETWEEN 200 AND 299) AS ok
       FROM attempts WHERE endpoint_id = ANY($1) AND started_at >= $4 AND started_at < $5 AND id >= $9),
     made AS (
       SELECT floor(extract(epoch FROM created_at - $2::timestamptz) * 1000 / $3)::int AS i
       FROM deliveries WHERE tenant_id = $6 AND endpoint_id = ANY($1) AND id >= $7 AND id < $8 AND created_at >= $4 AND created_at < $5)
     SELECT i, NULL::int AS h, sum(a)::int AS attempts, sum(s)::int AS succeeded, sum(d)::int AS created FROM (
       SELECT i, 1 AS a, ok::int AS s, 0 AS d FROM raw
       UNION ALL SELECT i, 0, 0, 1 FROM made) c
     GROUP BY i
     UNION ALL
     SELECT i, h, count(*)::int, NULL, NULL FROM raw GROUP BY i, h`,
    [endpointIds, span.from, span.stepMs, from, to, tenantId, firstIdAt('dlv', new Date(from.getTime() - ID_SLACK_MS)), firstIdAt('dlv', new Date(to.getTime() + ID_SLACK_MS)), firstIdAt('att', from)],
  ) as Promise<FigureRow[]>;
}

/**
 * The rows from `from` on (the young part after the rolled granules), by minute since `from`: the spans of one
 * request (last hour, last day, the series) all end now and share this part, so it is read once for them.
 */
function tail(db: DataSource, tenantId: string, endpointIds: string[], from: Date, shared?: Map<number, Promise<FigureRow[]>>): Promise<FigureRow[]> {
  const known = shared?.get(from.getTime());
  if (known) return known;
  const rows = tailByMinute(db, tenantId, endpointIds, from);
  shared?.set(from.getTime(), rows);
  return rows;
}

function tailByMinute(db: DataSource, tenantId: string, endpointIds: string[], from: Date): Promise<FigureRow[]> {
  const open = new Date(Date.UTC(9999, 0, 1)); // no end: nothing is younger than now
  return rowFigures(db, tenantId, endpointIds, { from, to: open, stepMs: 60_000 }, from, open);
}

/** Rows by minute since `since` put in the buckets of a span (its steps are whole minutes, its buckets start on minutes since `since`). */
function byBucket(rows: FigureRow[], since: Date, span: Span): FigureRow[] {
  const out: FigureRow[] = [];
  for (const r of rows) {
    const t = since.getTime() + r.i * 60_000;
    if (t >= span.to.getTime()) continue;
    out.push({ ...r, i: Math.floor((t - span.from.getTime()) / span.stepMs) });
  }
  return out;
}

/**
 * Attempts (count, successes, latency histogram) and deliveries created per bucket of a span, for endpoints
 * of one tenant: whole closed granules from the rollup (kept once read), the rest from the rows (through
 * (endpoint_id, started_at) and (endpoint_id, id)).
 */
export async function collect(db: DataSource, tenantId: string, endpointIds: string[], span: Span, now: Date, rollUp = true, shared?: Map<number, Promise<FigureRow[]>>): Promise<Collected> {
  const out: Collected = { buckets: new Map(), total: empty() };
  if (!endpointIds.length) return out;
  const rolled = rolledPart(span, now);
  if (rolled && rollUp) await ensureRolledUp(db, endpointIds, rolled.from, rolled.to);
  // [from, b) is closed for good when there is a rolled part: its granules [a, b) and the rows of [from, a) are
  // read once and kept; the rows of [b, to) are read each time. Without a rolled part, the rows of [from, to).
  const a = new Date(rolled?.from ?? span.from.getTime());
  const b = new Date(rolled?.to ?? span.from.getTime());
  const key = rolled && `${idsKey(endpointIds)}:${span.from.getTime()}:${span.stepMs}:${rolled.from}:${rolled.to}`;
  const kept = key ? rolledKept.get(key) : undefined;
  const [fromGranules, fromHead, fromRows] = await Promise.all([
    key && !kept
      ? (db.query(
          `WITH r AS (
             SELECT floor(extract(epoch FROM start - $2::timestamptz) * 1000 / $3)::int AS i, attempts, succeeded, latency_buckets, latency_counts, deliveries
             FROM endpoint_stat_granules WHERE endpoint_id = ANY($1) AND start >= $4 AND start < $5)
           SELECT i, NULL::int AS h, sum(attempts)::int AS attempts, sum(succeeded)::int AS succeeded, sum(deliveries)::int AS created FROM r GROUP BY i
           UNION ALL
           SELECT r.i, u.h, sum(u.n)::int, NULL, NULL FROM r CROSS JOIN LATERAL unnest(r.latency_buckets, r.latency_counts) AS u(h, n) GROUP BY r.i, u.h`,
          [endpointIds, span.from, span.stepMs, a, b],
        ) as Promise<FigureRow[]>)
      : Promise.resolve(null),
    key && !kept && a > span.from ? rowFigures(db, tenantId, endpointIds, span, span.from, a) : Promise.resolve(null),
    rolled ? tail(db, tenantId, endpointIds, b, shared).then((rows) => byBucket(rows, b, span)) : rowFigures(db, tenantId, endpointIds, span, b, span.to),
  ]);
  let granules = kept;
  if (key && fromGranules) {
    granules = new Map();
    addRows(granules, fromGranules);
    addRows(granules, fromHead ?? []);
    keep(rolledKept, key, granules);
  }
  // the kept figures are copied, never added to
  for (const [i, g] of granules ?? []) out.buckets.set(i, { ...g, latency: new Map(g.latency) });
  addRows(out.buckets, fromRows);
  for (const f of out.buckets.values()) {
    out.total.attempts += f.attempts;
    out.total.succeeded += f.succeeded;
    out.total.created += f.created;
    for (const [h, n] of f.latency) addTo(out.total.latency, h, n);
  }
  return out;
}

/**
 * All the deliveries an endpoint ever had (within the retention): those made before the last closed granule
 * counted once and kept (only the retention purge deletes deliveries, hourly), the younger ones counted each time.
 */
export async function deliveriesMade(db: DataSource, endpointId: string, now: Date): Promise<number> {
  const before = firstIdAt('dlv', new Date(floorTo(now.getTime() - GRANULE_MS, GRANULE_MS)));
  const kept = createdKept.get(endpointId);
  const [older, younger] = await Promise.all([
    kept?.before === before
      ? Promise.resolve(kept.n)
      : (db.query(`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND id < $2`, [endpointId, before]) as Promise<{ n: number }[]>).then(([r]) => {
          keep(createdKept, endpointId, { before, n: r.n });
          return r.n;
        }),
    (db.query(`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND id >= $2`, [endpointId, before]) as Promise<{ n: number }[]>).then(([r]) => r.n),
  ]);
  return older + younger;
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

export function windowView(f: BucketFigures | undefined): AttemptWindowView {
  const attempts = f?.attempts ?? 0;
  const succeeded = f?.succeeded ?? 0;
  return {
    attempts,
    succeeded,
    failed: attempts - succeeded,
    successRate: attempts ? Math.round((succeeded / attempts) * 10_000) / 10_000 : null,
    p50LatencyMs: f ? round(percentile(f.latency, 0.5)) : null,
    p99LatencyMs: f ? round(percentile(f.latency, 0.99)) : null,
  };
}

/**
 * Deliveries by outcome and attempt latency per bucket, for a set of endpoints of one tenant. Deliveries
 * created per bucket come with the attempts (collect); the pending and dead ones are read through the partial
 * index of unsettled deliveries, and the rest of those created succeeded.
 */
export async function statsSeries(db: DataSource, tenantId: string, endpointIds: string[], w: SeriesWindow, now = new Date(), rollUp = true, shared?: Map<number, Promise<FigureRow[]>>): Promise<StatsSeriesView> {
  const [figures, unsettled] = await Promise.all([
    collect(db, tenantId, endpointIds, seriesSpan(w), now, rollUp, shared),
    endpointIds.length
      ? (db.query(
          `SELECT floor(extract(epoch FROM created_at - $2::timestamptz) * 1000 / $4)::int AS i,
                  count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'dead')::int AS dead
           FROM deliveries WHERE tenant_id = $5 AND endpoint_id = ANY($1) AND status <> 'succeeded'
             AND id >= $6 AND id < $7 AND created_at >= $2 AND created_at < $3
           GROUP BY 1`,
          [endpointIds, w.from, w.to, w.stepMs, tenantId, firstIdAt('dlv', new Date(w.from.getTime() - ID_SLACK_MS)), firstIdAt('dlv', new Date(w.to.getTime() + ID_SLACK_MS))],
        ) as Promise<{ i: number; pending: number; dead: number }[]>)
      : Promise.resolve([]),
  ]);
  const open = new Map(unsettled.map((u) => [u.i, u]));
  const points: StatsPointView[] = Array.from({ length: w.buckets }, (_, i) => {
    const f = figures.buckets.get(i);
    const u = open.get(i);
    const pending = u?.pending ?? 0;
    const dead = u?.dead ?? 0;
    const view = windowView(f);
    return {
      start: new Date(w.from.getTime() + i * w.stepMs).toISOString(),
      deliveries: { succeeded: Math.max(0, (f?.created ?? 0) - pending - dead), dead, pending },
      attempts: view.attempts,
      succeeded: view.succeeded,
      failed: view.failed,
      p50LatencyMs: view.p50LatencyMs,
      p99LatencyMs: view.p99LatencyMs,
    };
  });
  return { window: w.window, step: w.step, from: w.from.toISOString(), to: w.to.toISOString(), total: windowView(figures.total), points };
}
