import { ChaosWorld, startWorld } from '../support/chaos';
import { ApiClient, HeraldProcess, spawnHerald } from '../support/herald';
import { KeyedReceiver } from '../support/keyed-receiver';
import { sleep, waitFor } from '../support/wait';

const EVENTS = 1000;
const KEYS = 20;
const LANES = 4;
const BATCH = 25;

/** A small seeded generator (mulberry32): the same sequence of answers on every run for the same arrival order. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ordered delivery under a worker's kill -9 and a Redis FLUSHALL, with two API processes publishing the same keys at
 * once and two workers delivering them.
 *
 * What is asserted, per key (a line: the one endpoint and an orderingKey):
 *  - every event published (answered 202) reaches the receiver with a 2xx;
 *  - publish order is the order of the places PostgreSQL gave (ordering_seq), and it agrees with each producer's own
 *    order: events of one key published one request after another by the same lane have increasing places;
 *  - the receiver never sees a request for an event after it saw one for a later event of the key: the sequence of
 *    every request of a key (failed, succeeded or repeated), mapped to publish positions, never goes down. So the
 *    first 2xx of each event comes in publish order, and a duplicate (at-least-once: the killed worker's attempt was
 *    sent, maybe answered 2xx, but not recorded) is always of the key's head at the kill, repeated before anything
 *    after it is sent, never of an event after a later one was acknowledged;
 *  - at most one request of a key is at the receiver at any moment;
 *  - duplicates (a second 2xx of an event) number at most one per key: only the head in flight at the kill.
 */
describe('chaos: ordered delivery by key', () => {
  let world: ChaosWorld;
  // Two API processes publish the same keys at once, and two workers deliver them.
  let apis: HeraldProcess[] = [];
  let workers: HeraldProcess[] = [];
  let receiver: KeyedReceiver;

  beforeAll(async () => {
    world = await startWorld({ HERALD_CIRCUIT_THRESHOLD: '100000' });
    apis = await Promise.all([0, 1].map(() => spawnHerald({ ...world.env, HERALD_ROLE: 'api' })));
  });
  afterAll(async () => {
    for (const p of [...workers, ...apis]) await p.stop('SIGKILL');
    await receiver?.close();
    await world?.close();
  });

  it(`${EVENTS} events over ${KEYS} keys from two API processes, 30 % of requests failing, kill -9 of one of two workers and a FLUSHALL mid-way: all arrive, in publish order per key`, async () => {
    const started = Date.now();
    const random = seeded(14);
    receiver = await KeyedReceiver.start(() => ({ status: random() < 0.3 ? 503 : 200, delayMs: 2 }));
    const client = new ApiClient(apis[0].url);
    const tenant = (await client.post('/v1/tenants', { name: 'ordering chaos' })).body.id as string;
    const endpoint = await client.post(`/v1/tenants/${tenant}/endpoints`, {
      url: receiver.url,
      ordering: 'key',
      // Never dead at 30 % failures (0.3^50), and quick: the test is about order, not about the schedule.
      retryPolicy: { maxAttempts: 50, initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
      // A killed worker's claim lapses after the timeout plus a margin: a short timeout keeps the test short.
      timeoutMs: 2000,
    });
    expect(endpoint.status).toBe(201);
    workers = await Promise.all([0, 1].map(() => spawnHerald({ ...world.env, HERALD_ROLE: 'worker' })));

    // Four lanes publish at once (batches of 25, keys mixed), two through each API process: publish order within a
    // key is then decided by PostgreSQL among concurrent requests of different processes, and is read back from it.
    const laneOf = new Map<string, number>();
    const sentOrder = new Map<string, number>();
    let next = 0;
    const lane = async (l: number) => {
      while (next < EVENTS) {
        const events = [];
        for (let i = 0; i < BATCH && next < EVENTS; i++, next++) events.push({ eventType: 'order.updated', payload: { key: `key-${next % KEYS}`, n: next }, orderingKey: `key-${next % KEYS}` });
        const res = await new ApiClient(apis[l % apis.length].url).post(`/v1/tenants/${tenant}/events/batch`, { events });
        expect(res.status).toBe(202);
        res.body.data.forEach((e: { id: string }) => {
          laneOf.set(e.id, l);
          sentOrder.set(e.id, sentOrder.size);
        });
      }
    };
    const publishing = Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));

    const successes = () => receiver.receipts.filter((r) => r.status === 200).length;
    await waitFor('deliveries under way', () => successes() >= 300, 60_000, 20);
    await workers[0].stop('SIGKILL');
    const killedAt = successes();
    // Then Redis forgets every job: the sweeper rebuilds them from PostgreSQL (the heads only).
    await world.redis.flushAll();
    await sleep(500);
    workers[0] = await spawnHerald({ ...world.env, HERALD_ROLE: 'worker' });
    await publishing;

    await waitFor(
      'every event delivered',
      async () => (await world.sql(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant]))[0].n === EVENTS,
      150_000,
      250,
    );

    const rows: { event_id: string; ordering_key: string; seq: string; status: string }[] = await world.sql(
      `SELECT event_id, ordering_key, ordering_seq::text AS seq, status FROM deliveries WHERE tenant_id = $1`,
      [tenant],
    );
    expect(rows).toHaveLength(EVENTS);
    const position = new Map<string, number>();
    const lines = new Map<string, { eventId: string; seq: bigint }[]>();
    for (const r of rows) {
      expect(r.seq).not.toBeNull();
      lines.set(r.ordering_key, [...(lines.get(r.ordering_key) ?? []), { eventId: r.event_id, seq: BigInt(r.seq) }]);
    }
    let duplicates = 0;
    for (const [key, line] of lines) {
      line.sort((a, b) => (a.seq < b.seq ? -1 : 1));
      line.forEach((e, i) => position.set(e.eventId, i));
      // Places agree with each lane's own order (its requests follow one another).
      for (let i = 1; i < line.length; i++) {
        const [a, b] = [line[i - 1].eventId, line[i].eventId];
        if (laneOf.get(a) === laneOf.get(b)) expect(sentOrder.get(a)!).toBeLessThan(sentOrder.get(b)!);
      }
      const requests = receiver.ofKey(key).map((r) => ({ position: position.get(r.eventId)!, ok: r.status === 200 }));
      for (let i = 1; i < requests.length; i++) {
        if (requests[i].position < requests[i - 1].position) throw new Error(`key ${key}: a request for position ${requests[i].position} came after one for ${requests[i - 1].position}`);
      }
      const firsts = receiver.firstSuccesses().get(key)!;
      expect(firsts).toHaveLength(line.length);
      const okCounts = new Map<number, number>();
      for (const r of requests) if (r.ok) okCounts.set(r.position, (okCounts.get(r.position) ?? 0) + 1);
      const repeated = [...okCounts.values()].filter((n) => n > 1).length;
      expect(repeated).toBeLessThanOrEqual(1);
      duplicates += repeated;
    }
    expect(receiver.maxInFlightPerKey).toBe(1);
    const failed = receiver.receipts.filter((r) => r.status !== 200).length;
    console.log(
      `  killed after ${killedAt} successes; ${receiver.receipts.length} requests, ${failed} answered 503, ${duplicates} events acknowledged twice; total ${Date.now() - started} ms`,
    );
  });
});
