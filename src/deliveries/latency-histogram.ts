/**
 * Attempt durations kept as a histogram of logarithmic buckets, each 2 % wide: bucket 0 holds 0 ms, bucket
 * k ≥ 1 holds [1.02^(k−1), 1.02^k) ms. Histograms add up (the stats rollup stores one per endpoint and
 * 10 minutes), and a percentile read from one is within 1 % of the exact value: the bucket's geometric middle
 * stands for its values.
 */
export const LATENCY_RATIO = 1.02;
const LN_RATIO = Math.log(LATENCY_RATIO);

/** The bucket of a duration in ms (as PostgreSQL computes it in LATENCY_BUCKET_SQL). */
export function latencyBucket(ms: number): number {
  return ms <= 0 ? 0 : 1 + Math.floor(Math.log(ms) / LN_RATIO);
}

/** SQL for the bucket of `duration_ms`; the same as latencyBucket. */
export const LATENCY_BUCKET_SQL = `CASE WHEN duration_ms <= 0 THEN 0 ELSE 1 + floor(ln(duration_ms) / ln(${LATENCY_RATIO}))::int END`;

/** The value a bucket stands for: its geometric middle (0 for bucket 0). */
export function bucketValue(bucket: number): number {
  return bucket <= 0 ? 0 : Math.pow(LATENCY_RATIO, bucket - 0.5);
}

/** bucket → count */
export type Histogram = Map<number, number>;

export function addTo(h: Histogram, bucket: number, count: number): void {
  if (count) h.set(bucket, (h.get(bucket) ?? 0) + count);
}

/**
 * The p-quantile (0..1) as PostgreSQL's percentile_cont computes it over the values the buckets stand for:
 * linear between the values at ranks floor and ceil of p × (n − 1). Null for an empty histogram.
 */
export function percentile(h: Histogram, p: number): number | null {
  const buckets = [...h.entries()].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const n = buckets.reduce((s, [, c]) => s + c, 0);
  if (!n) return null;
  const rank = p * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const at = (r: number): number => {
    let seen = 0;
    for (const [bucket, count] of buckets) {
      seen += count;
      if (r < seen) return bucketValue(bucket);
    }
    return bucketValue(buckets[buckets.length - 1][0]);
  };
  const a = at(lo);
  return hi === lo ? a : a + (at(hi) - a) * (rank - lo);
}
