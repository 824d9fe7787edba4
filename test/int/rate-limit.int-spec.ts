import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { InFlightLimiter } from '../../src/rate-limit/in-flight';
import { EndpointRateLimiter } from '../../src/rate-limit/rate-limiter';
import { waitFor } from '../support/wait';

jest.setTimeout(30_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Redis's own clock in ms. A reservation's delay is its slot minus the moment Redis ran the script; reading
 * the clock before and after a burst bounds those moments, so assertions can allow for exactly the time the
 * burst took (longer on a busy machine) instead of a guessed margin.
 */
async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

describe('rate limiting against Redis', () => {
  // Redis is shared: every key of this run lives under its own prefix and is deleted afterwards.
  const prefix = `herald-test:${randomUUID()}:`;
  let a: Redis;
  let b: Redis;

  beforeAll(() => {
    a = new Redis(REDIS_URL);
    b = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    const keys: string[] = [];
    for await (const batch of a.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    if (keys.length) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  describe('EndpointRateLimiter', () => {
    it('spaces 100 concurrent callers on two connections at 10/s', async () => {
      const viaA = new EndpointRateLimiter(a, `${prefix}rl:`);
      const viaB = new EndpointRateLimiter(b, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;

      const before = await redisNow(a);
      const delays = (await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? viaB : viaA).reserveSlot(ep, 10)))).sort((x, y) => x - y);
      const took = (await redisNow(a)) - before;

      // The limiter's arithmetic: one budget gives the k-th slot at first + k × 100 ms. Redis ran each
      // call somewhere within the `took` ms of the burst, so each delay is its slot's offset minus at most that.
      expect(delays[0]).toBe(0);
      for (let k = 0; k < 100; k++) {
        expect(delays[k]).toBeGreaterThanOrEqual(k * 100 - took - 1);
        expect(delays[k]).toBeLessThanOrEqual(k * 100 + 1);
      }
      // 100 slots end 9.9 s out only if both connections drew from one budget (two would end ~4.9 s out).
      expect(delays[99]).toBeGreaterThanOrEqual(9_900 - took - 1);

      const backlog = await viaA.backlog(ep, 10);
      expect(backlog).toBeGreaterThan(10_000 - ((await redisNow(a)) - before) - 1);
      expect(backlog).toBeLessThanOrEqual(10_000);
    });

    it('keeps endpoints independent', async () => {
      const limiter = new EndpointRateLimiter(a, `${prefix}rl:`);
      const [busy, quiet] = [`ep_${randomUUID()}`, `ep_${randomUUID()}`];

      await Promise.all(Array.from({ length: 20 }, () => limiter.reserveSlot(busy, 1)));

      expect(await limiter.backlog(busy, 1)).toBeGreaterThan(18_000);
      expect(await limiter.backlog(quiet, 1)).toBe(0);
      expect(await limiter.reserveSlot(quiet, 1)).toBe(0);
      expect(await limiter.reserveSlot(busy, 1)).toBeGreaterThan(18_000);
    });

    it('lets an idle endpoint key expire', async () => {
      const limiter = new EndpointRateLimiter(a, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;
      await limiter.reserveSlot(ep, 10);

      // The key lives one emission interval (100 ms) at most: still there with a TTL, or already gone
      // (-2) if the machine paused that long; never kept without one (-1).
      const ttl = await a.pttl(`${prefix}rl:{${ep}}`);
      expect(ttl === -2 || (ttl > 0 && ttl <= 100)).toBe(true);
    });

    it('reserves a run of slots in one call, spaced like single reservations and shared with them', async () => {
      const limiter = new EndpointRateLimiter(a, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;
      const before = await redisNow(a);
      const run = await limiter.reserveSlots(ep, 10, 5);
      expect(run[0]).toBeLessThanOrEqual(1);
      for (let i = 1; i < run.length; i++) expect(run[i] - run[i - 1]).toBeGreaterThanOrEqual(99);
      // The next single reservation takes the slot after the run: 100 ms after run[4], less the time
      // between the two calls (bounded by Redis's clock, not guessed).
      const next = await limiter.reserveSlot(ep, 10);
      const between = (await redisNow(a)) - before;
      expect(next).toBeLessThanOrEqual(run[4] + 101);
      expect(next).toBeGreaterThanOrEqual(run[4] + 100 - between - 1);
    });

    it('reserves in one round trip', async () => {
      const limiter = new EndpointRateLimiter(a, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;
      await limiter.reserveSlot(ep, 10); // the first use on a connection loads the script

      const sent = jest.spyOn(a, 'sendCommand');
      try {
        await limiter.reserveSlot(ep, 10);
        expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['evalsha']);
      } finally {
        sent.mockRestore();
      }
    });
  });

  describe('InFlightLimiter', () => {
    it('admits up to max, refuses the next, and admits again after a release', async () => {
      const inFlight = new InFlightLimiter(a, `${prefix}if:`);
      const ep = `ep_${randomUUID()}`;

      expect(await inFlight.acquire(ep, 2, 10_000, 'job-1')).toEqual({ ok: true });
      expect(await inFlight.acquire(ep, 2, 10_000, 'job-2')).toEqual({ ok: true });
      const refused = await inFlight.acquire(ep, 2, 10_000, 'job-3');
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.retryInMs).toBeGreaterThan(0);
        expect(refused.retryInMs).toBeLessThanOrEqual(1000);
      }
      expect(await inFlight.count(ep)).toBe(2);

      // a holder acquiring again renews its lease rather than being refused
      expect(await inFlight.acquire(ep, 2, 10_000, 'job-2')).toEqual({ ok: true });

      expect(await inFlight.release(ep, 'job-1')).toBe(true);
      expect(await inFlight.release(ep, 'job-1')).toBe(false);
      expect(await inFlight.acquire(ep, 2, 10_000, 'job-3')).toEqual({ ok: true });
      expect(await inFlight.count(ep)).toBe(2);
    });

    it('frees a lease that was never released once it expires', async () => {
      const inFlight = new InFlightLimiter(a, `${prefix}if:`);
      const viaB = new InFlightLimiter(b, `${prefix}if:`);
      const ep = `ep_${randomUUID()}`;

      expect(await inFlight.acquire(ep, 1, 300, 'killed-worker')).toEqual({ ok: true });
      // Refused while the lease runs (asserting that here would race the 300 ms lease on a busy machine;
      // the refusal itself is the first test's), and free once it has run out.
      await waitFor('the lease to run out', async () => (await viaB.count(ep)) === 0);
      expect(await viaB.acquire(ep, 1, 300, 'job-2')).toEqual({ ok: true });
      expect(await inFlight.count(ep)).toBe(1);
    });

    it('keeps endpoints independent', async () => {
      const inFlight = new InFlightLimiter(a, `${prefix}if:`);
      const [busy, quiet] = [`ep_${randomUUID()}`, `ep_${randomUUID()}`];

      expect(await inFlight.acquire(busy, 1, 10_000, 'job-1')).toEqual({ ok: true });
      expect((await inFlight.acquire(busy, 1, 10_000, 'job-2')).ok).toBe(false);
      expect(await inFlight.acquire(quiet, 1, 10_000, 'job-2')).toEqual({ ok: true });
    });
  });
});
