import { ulid } from 'ulid';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source';
import { RetentionPurge } from '../../src/deliveries/retention-purge';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, deleteKeysUnder, startHerald } from '../support/herald';
import { KeyedReceiver } from '../support/keyed-receiver';
import { waitFor } from '../support/wait';

/** Retries that come quickly (tests wait for them), many of them. */
const QUICK = { maxAttempts: 10, initialDelayMs: 50, maxDelayMs: 200, multiplier: 2 };
/** A head that keeps failing keeps its line waiting for a while between attempts. */
const PATIENT = { maxAttempts: 50, initialDelayMs: 400, maxDelayMs: 400, multiplier: 1 };

describe('ordered delivery by key', () => {
  let herald: Herald;
  let receiver: KeyedReceiver;

  beforeAll(async () => {
    // Endpoints here fail on purpose, many times in a row: the circuit would only slow the tests down.
    herald = await startHerald({ HERALD_CIRCUIT_THRESHOLD: '100000' });
  });
  afterAll(async () => {
    await herald.close();
  });
  afterEach(async () => {
    await receiver?.close();
  });

  const api = () => herald.api;
  const deliveryOf = async (tenantId: string, eventId: string) => (await api().get(`/v1/tenants/${tenantId}/deliveries?eventId=${eventId}`)).body.data[0];
  const deliveries = async (tenantId: string, status?: string) => (await api().get(`/v1/tenants/${tenantId}/deliveries?limit=250${status ? `&status=${status}` : ''}`)).body.data as any[];
  const attemptsOf = async (deliveryId: string) => (await herald.sql<{ n: number }>(`SELECT count(*)::int AS n FROM attempts WHERE delivery_id = $1`, [deliveryId]))[0].n;

  /** Publishes events {key, n} one request at a time (so publish order is the order of this list), some as batches. */
  async function publishKeyed(tenantId: string, events: { key: string; n: number }[], batch = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < events.length; i += batch) {
      const chunk = events.slice(i, i + batch);
      const res = await api().post(`/v1/tenants/${tenantId}/events/batch`, { events: chunk.map((e) => ({ eventType: 'order.updated', payload: e, orderingKey: e.key })) });
      expect(res.status).toBe(202);
      ids.push(...res.body.data.map((d: { id: string }) => d.id));
    }
    return ids;
  }

  it('refuses a bad ordering or orderingKey with a 400 naming the field, and shows the ordering', async () => {
    receiver = await KeyedReceiver.start(() => ({ status: 200 }));
    const tenant = await createTenant(api());
    const bad = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, ordering: 'fifo' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['ordering']);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints`)).body.data).toEqual([]);

    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url });
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body.ordering).toBe('none');
    const patched = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { ordering: 'key' });
    expect(patched.status).toBe(200);
    expect(patched.body.ordering).toBe('key');
    const badPatch = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { ordering: 1 });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.details.map((d: { field: string }) => d.field)).toEqual(['ordering']);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body.ordering).toBe('key');

    for (const orderingKey of ['', 'a\nb', 'k'.repeat(257), 42]) {
      const res = await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'order.updated', payload: {}, orderingKey });
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['orderingKey']);
    }
    const batch = await api().post(`/v1/tenants/${tenant.id}/events/batch`, {
      events: [
        { eventType: 'order.updated', payload: {}, orderingKey: 'fine' },
        { eventType: 'order.updated', payload: {}, orderingKey: '' },
      ],
    });
    expect(batch.status).toBe(400);
    expect(JSON.stringify(batch.body.details)).toContain('orderingKey');
    const [{ events }] = await herald.sql(`SELECT count(*)::int AS events FROM events WHERE tenant_id = $1`, [tenant.id]);
    expect(events).toBe(0);
  });

  it('delivers the events of each key in publish order, one at a time, through failures and retries', async () => {
    // About a third of the attempts fail, deterministically, each event at most three times.
    receiver = await KeyedReceiver.start(({ n, key }, seen) => ({ status: seen < 3 && (n * 7 + seen * 3 + key.length) % 10 < 3 ? 503 : 200, delayMs: 5 }));
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: QUICK });
    const keys = ['a', 'bb', 'ccc', 'dddd'];
    const events = Array.from({ length: 60 }, (_, i) => ({ key: keys[i % keys.length], n: Math.floor(i / keys.length) }));
    await publishKeyed(tenant.id, events.slice(0, 20), 1);
    await publishKeyed(tenant.id, events.slice(20), 8);

    await waitFor('every event delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === 60, 60_000, 200);
    expect(receiver.receipts.filter((r) => r.status === 503).length).toBeGreaterThan(5);
    expect(receiver.maxInFlightPerKey).toBe(1);
    for (const key of keys) {
      // Every request of a key (failed or not) came in publish order: an event is never tried before the previous one succeeded.
      const ns = receiver.ofKey(key).map((r) => r.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      expect(receiver.firstSuccesses().get(key)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    }
    const [first, second] = (await deliveries(tenant.id)).filter((d) => d.orderingKey === 'a').reverse();
    expect(first).toMatchObject({ ordered: true, after: null, waitingFor: null });
    expect(second).toMatchObject({ ordered: true, after: first.eventId, waitingFor: null });
  });

  it('holds a key behind its failing head (saying which event it waits for) while other keys flow, and moves on once the head is dead', async () => {
    receiver = await KeyedReceiver.start(({ key, n }) => ({ status: key === 'stuck' && n === 0 ? 503 : 200 }));
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: PATIENT });
    const [head, ...behind] = await publishKeyed(tenant.id, [0, 1, 2].map((n) => ({ key: 'stuck', n })));
    const free = await publishKeyed(tenant.id, [0, 1, 2, 3, 4].map((n) => ({ key: 'free', n })), 5);

    await waitFor('the other key delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === free.length, 30_000, 100);
    const headDelivery = await deliveryOf(tenant.id, head);
    await waitFor('the head tried', async () => (await attemptsOf(headDelivery.id)) >= 2, 30_000, 100);
    for (const eventId of behind) {
      const waiting = await deliveryOf(tenant.id, eventId);
      expect(waiting).toMatchObject({ status: 'pending', attemptCount: 0, orderingKey: 'stuck', ordered: true, waitingFor: head, nextAttemptAt: null });
    }
    expect((await deliveryOf(tenant.id, behind[1])).after).toBe(behind[0]);
    expect(receiver.ofKey('stuck').every((r) => r.n === 0)).toBe(true);
    // The stats count them as waiting in line, not as scheduled (only the head, between its retries, may be).
    const stats = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body;
    expect(stats.deliveries).toMatchObject({ pending: 3, waitingInLine: 2 });
    expect(stats.deliveries.scheduled).toBeLessThanOrEqual(1);

    // The head's next failure is its last: dead, and the line moves on.
    await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { retryPolicy: { maxAttempts: 1 } });
    await waitFor('the rest of the key delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === free.length + behind.length, 30_000, 100);
    expect((await deliveryOf(tenant.id, head)).status).toBe('dead');
    expect(await deliveryOf(tenant.id, behind[0])).toMatchObject({ status: 'succeeded', after: head, waitingFor: null });
    expect(receiver.firstSuccesses().get('stuck')).toEqual([1, 2]);
  });

  it('resends a finished delivery now, outside its line; a waiting one keeps its place', async () => {
    receiver = await KeyedReceiver.start(() => ({ status: 200 }));
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: PATIENT });
    const [e0] = await publishKeyed(tenant.id, [{ key: 'k', n: 0 }]);
    await waitFor('the first delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === 1, 30_000, 100);

    receiver.answer(({ n }) => ({ status: n === 1 ? 503 : 200 }));
    const [e1, e2] = await publishKeyed(tenant.id, [1, 2].map((n) => ({ key: 'k', n })));
    const d1 = await deliveryOf(tenant.id, e1);
    await waitFor('the new head failing', async () => (await attemptsOf(d1.id)) >= 1, 30_000, 100);

    const d0 = await deliveryOf(tenant.id, e0);
    const resent = await api().post(`/v1/tenants/${tenant.id}/deliveries/${d0.id}/resend`);
    expect(resent.status).toBe(202);
    expect(resent.body).toMatchObject({ ordered: false, orderingKey: 'k', waitingFor: null });
    await waitFor('the resend delivered while the key waits', () => receiver.ofKey('k').filter((r) => r.n === 0).length === 2, 30_000, 50);
    expect((await deliveryOf(tenant.id, e1)).status).toBe('pending');

    const d2 = await deliveryOf(tenant.id, e2);
    const waiting = await api().post(`/v1/tenants/${tenant.id}/deliveries/${d2.id}/resend`);
    expect(waiting.status).toBe(202);
    expect(waiting.body).toMatchObject({ status: 'pending', ordered: true, waitingFor: e1, nextAttemptAt: null });
    // The head fails once more: the resent one still waits behind it.
    const tried = await attemptsOf(d1.id);
    await waitFor('another attempt of the head', async () => (await attemptsOf(d1.id)) > tried, 30_000, 100);
    expect(receiver.ofKey('k').some((r) => r.n === 2)).toBe(false);

    receiver.answer(() => ({ status: 200 }));
    await waitFor('the key delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === 3, 30_000, 100);
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${d2.id}/attempts`)).body.data;
    expect(attempts.map((a: { trigger: string }) => a.trigger)).toEqual(['manual']);
    expect(receiver.ofKey('k').map((r) => r.n)).toEqual([0, 1, 0, ...receiver.ofKey('k').slice(3).map((r) => r.n)]);
    expect(receiver.firstSuccesses().get('k')).toEqual([0, 1, 2]);
  });

  it('leaves unordered endpoints and events without a key as they were', async () => {
    receiver = await KeyedReceiver.start(({ n }) => ({ status: n === 0 ? 503 : 200 }));
    const tenant = await createTenant(api());
    const plain = await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: PATIENT });
    const [keyed] = await publishKeyed(tenant.id, [0, 1, 2, 3].map((n) => ({ key: 'x', n })));
    await waitFor('the rest delivered past the failing first', async () => (await deliveries(tenant.id, 'succeeded')).length === 3, 30_000, 100);
    expect(await deliveryOf(tenant.id, keyed)).toMatchObject({ status: 'pending', orderingKey: 'x', ordered: false, after: null, waitingFor: null });

    // An ordered endpoint, events without a key: unordered too.
    await api().patch(`/v1/tenants/${tenant.id}/endpoints/${plain.id}`, { ordering: 'key' });
    const unkeyed = [];
    for (const n of [0, 1, 2]) unkeyed.push((await publish(api(), tenant.id, 'order.updated', { key: 'none', n })).id);
    await waitFor('the unkeyed ones delivered past the failing first', async () => (await deliveries(tenant.id, 'succeeded')).length === 5, 30_000, 100);
    expect(await deliveryOf(tenant.id, unkeyed[0])).toMatchObject({ status: 'pending', orderingKey: null, ordered: false });
  });

  it('retention: an expired head releases its line; a line is forgotten only when idle with nothing pending, then starts again in order', async () => {
    receiver = await KeyedReceiver.start(({ key, n }) => ({ status: key === 'busy' && n === 0 ? 503 : 200 }));
    const tenant = await createTenant(api());
    // After its first failure the busy head waits a minute for its retry: not in flight while the purge runs.
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: { maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, multiplier: 1 } });
    const [, busyHead, busyNext] = await publishKeyed(tenant.id, [{ key: 'idle', n: 0 }, { key: 'busy', n: 0 }, { key: 'busy', n: 1 }], 3);
    await waitFor('the idle key delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === 1, 30_000, 100);
    await waitFor('the busy head failed once', async () => (await deliveryOf(tenant.id, busyHead)).attemptCount === 1, 30_000, 100);
    expect((await deliveryOf(tenant.id, busyNext)).waitingFor).toBe(busyHead);
    await herald.sql(`UPDATE ordering_lines SET updated_at = now() - interval '40 days' WHERE endpoint_id = $1`, [endpoint.id]);
    // The busy key's failing head is older than the retention: it expires (dead), and the next one goes. Retention
    // goes by the time in the ids (events are partitioned by them), so its event takes an id from 40 days ago.
    const oldHead = `evt_${ulid(Date.now() - 40 * 86_400_000)}`;
    await herald.sql(`UPDATE events SET id = $2, created_at = now() - interval '40 days' WHERE id = $1`, [busyHead, oldHead]);
    await herald.sql(`UPDATE deliveries SET event_id = $2 WHERE event_id = $1`, [busyHead, oldHead]);

    const db = new DataSource({ ...dataSourceOptions({ databaseUrl: herald.env.DATABASE_URL }), logging: false });
    await db.initialize();
    try {
      await new RetentionPurge(db, loadConfig({ ...herald.env, HERALD_RETENTION_DAYS: '30' })).purge();
    } finally {
      await db.destroy();
    }
    const lines = await herald.sql(`SELECT ordering_key, last_seq::int AS last FROM ordering_lines WHERE endpoint_id = $1`, [endpoint.id]);
    expect(lines).toEqual([{ ordering_key: 'busy', last: 2 }]);
    expect(await deliveryOf(tenant.id, oldHead)).toMatchObject({ status: 'dead', lastError: 'expired' });
    await waitFor('the next of the busy key delivered', async () => (await deliveryOf(tenant.id, busyNext)).status === 'succeeded', 30_000, 100);

    const [again] = await publishKeyed(tenant.id, [{ key: 'idle', n: 1 }]);
    await waitFor('the idle key delivered again', async () => (await deliveryOf(tenant.id, again)).status === 'succeeded', 30_000, 100);
    expect(await herald.sql(`SELECT ordering_seq::int AS seq FROM deliveries WHERE event_id = $1`, [again])).toEqual([{ seq: 1 }]);
  });

  it('after Redis forgets everything, the sweeper offers the head of each line and never one waiting behind it', async () => {
    receiver = await KeyedReceiver.start(() => ({ status: 503 }));
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: { maxAttempts: 50, initialDelayMs: 1500, maxDelayMs: 1500, multiplier: 1 } });
    const keys = ['p', 'q', 'r'];
    const ids = await publishKeyed(tenant.id, keys.flatMap((key) => [0, 1, 2].map((n) => ({ key, n }))), 9);
    const all = await deliveries(tenant.id);
    const byEvent = new Map(all.map((d) => [d.eventId, d.id as string]));
    const heads = new Set(ids.filter((_, i) => i % 3 === 0).map((id) => byEvent.get(id)!));
    const waiting = new Set(ids.filter((_, i) => i % 3 !== 0).map((id) => byEvent.get(id)!));
    await waitFor('every head tried', async () => {
      for (const head of heads) if ((await attemptsOf(head)) < 1) return false;
      return true;
    }, 30_000, 100);

    // Redis is shared with other tests here: this installation's keys are what it forgets (a FLUSHALL for it).
    const redis = new Redis(herald.env.REDIS_URL);
    try {
      const jobs = async () => {
        const found = new Set<string>();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${herald.config.queuePrefix}:*`, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) for (const id of key.match(/dlv_[0-9A-Z]{26}/g) ?? []) found.add(id);
          for (const key of keys.filter((k) => /:(wait|active|delayed|paused)$/.test(k))) {
            const type = await redis.type(key);
            const members = type === 'zset' ? await redis.zrange(key, 0, -1) : type === 'list' ? await redis.lrange(key, 0, -1) : [];
            for (const m of members) for (const id of m.match(/dlv_[0-9A-Z]{26}/g) ?? []) found.add(id);
          }
        } while (cursor !== '0');
        return found;
      };
      const before = new Map<string, number>();
      for (const head of heads) before.set(head, await attemptsOf(head));
      await deleteKeysUnder(redis, herald.config.queuePrefix);
      const offered = new Set<string>();
      await waitFor('every head offered again and tried', async () => {
        for (const id of await jobs()) offered.add(id);
        for (const head of heads) if ((await attemptsOf(head)) <= before.get(head)!) return false;
        return true;
      }, 30_000, 50);
      // Every head was offered again (its attempts grew after Redis forgot them, above); none waiting behind one was.
      // (Whether the scan also caught a head's job is luck: the worker takes and completes it within milliseconds.)
      expect([...offered].filter((id) => waiting.has(id))).toEqual([]);
    } finally {
      redis.disconnect();
    }
    for (const id of waiting) expect(await attemptsOf(id)).toBe(0);

    receiver.answer(() => ({ status: 200 }));
    await waitFor('every event delivered', async () => (await deliveries(tenant.id, 'succeeded')).length === 9, 30_000, 100);
    for (const key of keys) expect(receiver.firstSuccesses().get(key)).toEqual([0, 1, 2]);
  });
});

describe('ordered delivery under rate limits and an open circuit', () => {
  let herald: Herald;
  let receiver: KeyedReceiver;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_CIRCUIT_THRESHOLD: '3', HERALD_CIRCUIT_COOLDOWN_MS: '500' });
  });
  afterAll(async () => {
    await herald.close();
  });
  afterEach(async () => {
    await receiver?.close();
  });

  const api = () => herald.api;
  const succeeded = async (tenantId: string) => (await api().get(`/v1/tenants/${tenantId}/deliveries?status=succeeded&limit=250`)).body.data.length as number;
  const publishAll = async (tenantId: string, events: { key: string; n: number }[]) => {
    const res = await api().post(`/v1/tenants/${tenantId}/events/batch`, { events: events.map((e) => ({ eventType: 'order.updated', payload: e, orderingKey: e.key })) });
    expect(res.status).toBe(202);
  };

  it('keeps each key in order when a rate limit defers its heads', async () => {
    receiver = await KeyedReceiver.start(() => ({ status: 200 }));
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', rateLimitPerSecond: 20 });
    await publishAll(tenant.id, Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, n: Math.floor(i / 3) })));
    await waitFor('every event delivered', async () => (await succeeded(tenant.id)) === 30, 60_000, 200);
    for (const key of ['k0', 'k1', 'k2']) expect(receiver.ofKey(key).map((r) => r.n)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(receiver.maxInFlightPerKey).toBe(1);
  });

  it('keeps each key in order across an open circuit: the heads wait, nothing behind them jumps ahead', async () => {
    let failing = true;
    receiver = await KeyedReceiver.start(() => ({ status: failing ? 503 : 200 }));
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, ordering: 'key', retryPolicy: { maxAttempts: 50, initialDelayMs: 100, maxDelayMs: 300, multiplier: 2 } });
    await publishAll(tenant.id, Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 2}`, n: Math.floor(i / 2) })));
    await waitFor('the circuit open', async () => (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body.circuit.state !== 'closed', 30_000, 50);
    failing = false;
    await waitFor('every event delivered', async () => (await succeeded(tenant.id)) === 12, 60_000, 200);
    for (const key of ['k0', 'k1']) {
      const ns = receiver.ofKey(key).map((r) => r.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      expect(receiver.firstSuccesses().get(key)).toEqual([0, 1, 2, 3, 4, 5]);
    }
    expect(receiver.maxInFlightPerKey).toBe(1);
  });
});
