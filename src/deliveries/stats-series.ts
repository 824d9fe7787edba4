import { DataSource } from 'typeorm';
import { AttemptWindowView, StatsPointView, StatsSeriesView } from './dto/endpoint-stats.dto';
import { SeriesWindow, firstIdAt } from './stats-window';

interface BucketRow {
  i: number | null;
  attempts: number;
  succeeded: number;
  p50: number | null;
  p99: number | null;
  d_succeeded: number | null;
  d_dead: number | null;
  d_pending: number | null;
}

const round = (v: number | null) => (v === null ? null : Math.round(Number(v) * 10) / 10);

function total(r: BucketRow | undefined): AttemptWindowView {
  const attempts = r?.attempts ?? 0;
  const succeeded = r?.succeeded ?? 0;
  return {
    attempts,
    succeeded,
    failed: attempts - succeeded,
    successRate: attempts ? Math.round((succeeded / attempts) * 10_000) / 10_000 : null,
    p50LatencyMs: round(r?.p50 ?? null),
    p99LatencyMs: round(r?.p99 ?? null),
  };
}

/**
 * Deliveries by outcome and attempt latency per bucket, for a set of endpoints of one tenant, in one query.
 * Attempts are read through (endpoint_id, started_at); deliveries through (endpoint_id, id), ids being time-sorted.
 * The id bounds also skip the day partitions before the window (an attempt's id is made after it started).
 */
export async function statsSeries(db: DataSource, tenantId: string, endpointIds: string[], w: SeriesWindow): Promise<StatsSeriesView> {
  const rows: BucketRow[] = await db.query(
    `WITH a AS (
       SELECT floor(extract(epoch FROM started_at - $3::timestamptz) * 1000 / $5)::int AS i, duration_ms,
              (error IS NULL AND status_code BETWEEN 200 AND 299) AS ok
       FROM attempts WHERE endpoint_id = ANY($2) AND started_at >= $3 AND started_at < $4 AND id >= $8),
     att AS (
       SELECT i, count(*)::int AS attempts, count(*) FILTER (WHERE ok)::int AS succeeded,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
       FROM a GROUP BY ROLLUP (i)),
     dlv AS (
       SELECT floor(extract(epoch FROM created_at - $3::timestamptz) * 1000 / $5)::int AS i,
              count(*) FILTER (WHERE status = 'succeeded')::int AS d_succeeded,
              count(*) FILTER (WHERE status = 'dead')::int AS d_dead,
              count(*) FILTER (WHERE status = 'pending')::int AS d_pending
       FROM deliveries WHERE tenant_id = $1 AND endpoint_id = ANY($2) AND id >= $6 AND created_at >= $3 AND created_at < $4
       GROUP BY 1)
     SELECT b.i, coalesce(att.attempts, 0) AS attempts, coalesce(att.succeeded, 0) AS succeeded, att.p50, att.p99,
            dlv.d_succeeded, dlv.d_dead, dlv.d_pending
     FROM generate_series(0, $7 - 1) AS b(i) LEFT JOIN att ON att.i = b.i LEFT JOIN dlv ON dlv.i = b.i
     UNION ALL
     SELECT NULL, attempts, succeeded, p50, p99, NULL, NULL, NULL FROM att WHERE i IS NULL
     ORDER BY 1 NULLS LAST`,
    [tenantId, endpointIds, w.from, w.to, w.stepMs, firstIdAt('dlv', w.from), w.buckets, firstIdAt('att', w.from)],
  );
  const points: StatsPointView[] = rows
    .filter((r) => r.i !== null)
    .map((r) => ({
      start: new Date(w.from.getTime() + r.i! * w.stepMs).toISOString(),
      deliveries: { succeeded: r.d_succeeded ?? 0, dead: r.d_dead ?? 0, pending: r.d_pending ?? 0 },
      attempts: r.attempts,
      succeeded: r.succeeded,
      failed: r.attempts - r.succeeded,
      p50LatencyMs: round(r.p50),
      p99LatencyMs: round(r.p99),
    }));
  return { window: w.window, step: w.step, from: w.from.toISOString(), to: w.to.toISOString(), total: total(rows.find((r) => r.i === null)), points };
}
