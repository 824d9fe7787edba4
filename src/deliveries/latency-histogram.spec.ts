import { Histogram, addTo, bucketValue, latencyBucket, percentile } from './latency-histogram';

/** percentile_cont over exact values, as PostgreSQL computes it. */
function exact(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

function histogramOf(values: number[]): Histogram {
  const h: Histogram = new Map();
  for (const v of values) addTo(h, latencyBucket(v), 1);
  return h;
}

describe('latency histogram', () => {
  it('puts 0 ms in bucket 0 and every whole millisecond in a bucket whose value is within 1 %', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(bucketValue(0)).toBe(0);
    for (let ms = 1; ms <= 60_000; ms += ms < 100 ? 1 : 37) {
      const v = bucketValue(latencyBucket(ms));
      expect(Math.abs(v - ms) / ms).toBeLessThanOrEqual(0.01);
    }
  });

  it('reads percentiles within 1 % of percentile_cont over the exact values', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = Array.from({ length: 5000 }, () => (random() < 0.02 ? 400 + Math.floor(random() * 2600) : 20 + Math.floor(random() * 380)));
    const h = histogramOf(values);
    for (const p of [0.5, 0.9, 0.99]) {
      const want = exact(values, p);
      expect(Math.abs(percentile(h, p)! - want) / want).toBeLessThanOrEqual(0.01);
    }
  });

  it('adds up: two halves give what the whole gives', () => {
    const a = histogramOf([5, 10, 200, 3000]);
    const b = histogramOf([7, 7, 90]);
    const both = histogramOf([5, 10, 200, 3000, 7, 7, 90]);
    for (const [bucket, n] of b) addTo(a, bucket, n);
    expect(percentile(a, 0.5)).toBe(percentile(both, 0.5));
    expect(percentile(a, 0.99)).toBe(percentile(both, 0.99));
  });

  it('answers null without values, and the value itself for one', () => {
    expect(percentile(new Map(), 0.5)).toBeNull();
    expect(Math.abs(percentile(histogramOf([12]), 0.99)! - 12)).toBeLessThanOrEqual(0.12);
  });
});
