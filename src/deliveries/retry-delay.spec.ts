import { RetryPolicy } from '../config/config';
import { retryDelay } from './retry-delay';

const DEFAULT: RetryPolicy = { maxAttempts: 8, initialDelayMs: 5000, maxDelayMs: 10 * 3600 * 1000, multiplier: 5 };
const middle = () => 0.5; // no jitter

describe('retryDelay', () => {
  it('follows the default schedule: 5 s, 25 s, ~2 min, ~10 min, ~52 min, ~4.3 h, 10 h, then stops', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(DEFAULT, n, {}, middle));
    expect(delays).toEqual([5000, 25000, 125000, 625000, 3125000, 15625000, 36000000]);
    expect(retryDelay(DEFAULT, 8, {}, middle)).toBeNull();
  });

  it('jitters by at most ±20 %', () => {
    expect(retryDelay(DEFAULT, 1, {}, () => 0)).toBe(4000);
    expect(retryDelay(DEFAULT, 1, {}, () => 0.999999)).toBe(6000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(DEFAULT, 2, {}, Math.random)!;
      expect(d).toBeGreaterThanOrEqual(20000);
      expect(d).toBeLessThanOrEqual(30000);
    }
  });

  it('waits at least as long as Retry-After, capped at a day', () => {
    expect(retryDelay(DEFAULT, 1, { retryAfterMs: 60000 }, middle)).toBe(60000);
    expect(retryDelay(DEFAULT, 1, { retryAfterMs: 1000 }, middle)).toBe(5000);
    expect(retryDelay(DEFAULT, 1, { retryAfterMs: 30 * 24 * 3600 * 1000 }, middle)).toBe(24 * 3600 * 1000);
  });

  it('honours a custom policy', () => {
    const policy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 150, multiplier: 2 };
    expect([1, 2, 3].map((n) => retryDelay(policy, n, {}, middle))).toEqual([100, 150, null]);
  });
});
