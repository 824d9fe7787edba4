import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { InFlightLimiter } from '../../src/rate-limit/in-flight';
import { EndpointRateLimiter } from '../../src/rate-limit/rate-limiter';

jest.setTimeout(30_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The most of `times` that fall in any half-open window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    /** Reserves on one connection and reports each slot on this process's clock. */
    async function reserveAt(limiter: EndpointRateLimiter, ep: string, rate: number) {
      const delay = await limiter.reserveSlot(ep, rate);
      return { delay, sendAt: performance.now() + delay };
    }

    it('spaces 100 concurrent callers on two connections at 10/s', async () => {
      const viaA = new EndpointRateLimiter(a, `${prefix}rl:`);
      const viaB = new EndpointRateLimiter(b, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;

      const slots = await Promise.all(
        Array.from({ length: 100 }, (_, i) => reserveAt(i % 2 ? viaB : viaA, ep, 10)),
      );

      const delays = slots.map((s) => s.delay).sort((x, y) => x - y);
      expect(delays[0]).toBe(0);
      // Callers reach Redis a little apart, so a gap may come out slightly under T.
      for (let i = 1; i < delays.length; i++) expect(delays[i] - delays[i - 1]).toBeGreaterThanOrEqual(90);
      // 100 slots at 10/s end about 9.9 s out only if both connections drew from one budget.
      expect(delays[99]).toBeGreaterThanOrEqual(9_800);
      expect(delays[99]).toBeLessThanOrEqual(10_000);
      expect(maxInWindow(slots.map((s) => s.sendAt), 1000)).toBeLessThanOrEqual(11);

      const backlog = await viaA.backlog(ep, 10);
      expect(backlog).toBeGreaterThan(9_800);
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

      const ttl = await a.pttl(`${prefix}rl:{${ep}}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(100);
    });

    it('reserves a run of slots in one call, spaced like single reservations and shared with them', async () => {
      const limiter = new EndpointRateLimiter(a, `${prefix}rl:`);
      const ep = `ep_${randomUUID()}`;
      const run = await limiter.reserveSlots(ep, 10, 5);
      expect(run[0]).toBeLessThanOrEqual(1);
      for (let i = 1; i < run.length; i++) expect(run[i] - run[i - 1]).toBeGreaterThanOrEqual(99);
      // The next single reservation comes after the run.
      const next = await limiter.reserveSlot(ep, 10);
      expect(next).toBeGreaterThanOrEqual(run[4] + 90);
      expect(next).toBeLessThanOrEqual(run[4] + 110);
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
      const refused = await viaB.acquire(ep, 1, 300, 'job-2');
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.retryInMs).toBeLessThanOrEqual(300);

      await sleep(350);
      expect(await viaB.count(ep)).toBe(0);
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
