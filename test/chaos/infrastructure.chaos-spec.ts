import { ChaosWorld, burst, describeRefused, ledger, startBurst, startWorld, subscribe, waitQuiet } from '../support/chaos';
import { ApiClient, HeraldProcess, spawnHerald } from '../support/herald';
import { sleep, waitFor } from '../support/wait';

/** Redis and PostgreSQL misbehave mid-burst: a FLUSHALL, Redis down for 10 s, a PostgreSQL restart. */
describe('chaos: Redis and PostgreSQL faults', () => {
  let world: ChaosWorld;
  let api: HeraldProcess;
  let worker: HeraldProcess;

  beforeAll(async () => {
    world = await startWorld();
    [api, worker] = await Promise.all([spawnHerald({ ...world.env, HERALD_ROLE: 'api' }), spawnHerald({ ...world.env, HERALD_ROLE: 'worker' })]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await world?.close();
  });

  const receipts = (subscribers: { receiver: { received: unknown[] } }[]) => subscribers.reduce((n, s) => n + s.receiver.received.length, 0);

  it('Redis FLUSHALL mid-burst: the sweeper re-enqueues from PostgreSQL, nothing is lost', async () => {
    const started = Date.now();
    const { tenantId, subscribers, close } = await subscribe(new ApiClient(api.url));
    try {
      const publishing = burst({ baseUrl: () => api.url, tenantId, total: 2000 });
      await waitFor('deliveries under way', () => receipts(subscribers) >= 300, 30_000, 20);
      await world.redis.flushAll();
      const flushedAt = receipts(subscribers);
      const { accepted, refused, ms } = await publishing;
      const quietMs = await waitQuiet(world, subscribers);
      const result = await ledger('redis FLUSHALL', world, tenantId, subscribers, accepted);
      console.log(`  flushed after ${flushedAt} receipts; refused ${describeRefused(refused)}; burst ${ms} ms, quiet after ${quietMs} ms; total ${Date.now() - started} ms`);
      expect(refused.size).toBe(0);
      expect(result.lost).toBe(0);
      expect(result.delivered).toBe(accepted.size);
    } finally {
      await close();
    }
  });

  it('Redis down for 10 s: publishing still answers 202, deliveries resume when it returns', async () => {
    const started = Date.now();
    const { tenantId, subscribers, close } = await subscribe(new ApiClient(api.url));
    try {
      // Paced (about 12 s for the 2 000 events) so that the burst is still publishing when Redis goes, however fast the machine.
      const { live, done } = startBurst({ baseUrl: () => api.url, tenantId, total: 2000, concurrency: 4, paceMs: 300 });
      await waitFor('deliveries under way', () => receipts(subscribers) >= 200, 30_000, 20);
      await world.redis.kill();
      const acceptedBefore = live.accepted.size;
      const receivedBefore = receipts(subscribers);
      await sleep(10_000);
      const acceptedWhileDown = live.accepted.size - acceptedBefore;
      const deliveredWhileDown = receipts(subscribers) - receivedBefore;
      await world.redis.resume();
      const { accepted, refused, ms } = await done;
      const quietMs = await waitQuiet(world, subscribers);
      const result = await ledger('redis down 10 s', world, tenantId, subscribers, accepted);
      console.log(
        `  ${acceptedWhileDown} events answered 202 while Redis was down (${deliveredWhileDown} requests sent meanwhile); refused ${describeRefused(refused)}; burst ${ms} ms, quiet ${quietMs} ms after; total ${Date.now() - started} ms`,
      );
      expect(acceptedWhileDown).toBeGreaterThan(0);
      expect(refused.size).toBe(0);
      expect(result.lost).toBe(0);
      expect(result.delivered).toBe(accepted.size);
    } finally {
      await close();
    }
  });

  it('PostgreSQL restarted mid-burst: publishing answers 503 (never a false 202) while it is down, and recovers by itself', async () => {
    const started = Date.now();
    const { tenantId, subscribers, close } = await subscribe(new ApiClient(api.url));
    try {
      // Paced, so that the burst is still publishing when PostgreSQL stops, however fast the machine.
      const { live, done } = startBurst({ baseUrl: () => api.url, tenantId, total: 2000, concurrency: 4, paceMs: 300 });
      await waitFor('publishing under way', () => live.accepted.size >= 500, 30_000, 10);
      await world.pg.stop('fast');
      const acceptedBefore = live.accepted.size;
      await sleep(5000);
      const acceptedWhileDown = live.accepted.size - acceptedBefore;
      await world.pg.resume();
      const { accepted, refused, ms } = await done;
      const quietMs = await waitQuiet(world, subscribers);
      const result = await ledger('postgres restart', world, tenantId, subscribers, accepted);
      console.log(`  while down: ${acceptedWhileDown} answered 202, refused ${describeRefused(refused)}; burst ${ms} ms, quiet ${quietMs} ms after; total ${Date.now() - started} ms`);
      if (refused.has(500)) console.log(api.output().split('\n').filter((l) => /failed:/.test(l)).slice(0, 5).map((l) => l.slice(0, 300)).join('\n'));
      // Only 503 while down; nothing else (no 500, no hang).
      expect([...refused.keys()]).toEqual([503]);
      expect(acceptedWhileDown).toBe(0);
      expect(result.lost).toBe(0);
      expect(result.delivered).toBe(accepted.size);
      const ready = await fetch(`${api.url}/health/ready`);
      expect(ready.status).toBe(200);
    } finally {
      await close();
    }
  });
});
