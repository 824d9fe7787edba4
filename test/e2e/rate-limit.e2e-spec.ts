import { Client } from 'pg';
import { shardOf } from '../../src/queues/delivery-queues';
import { createEndpoint, createTenant } from '../support/fixtures';
import { ApiClient, HeraldEnv, HeraldProcess, spawnHerald, testEnvironment } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

/**
 * The limiter's promise, stated so that a busy machine cannot break it: sends happen at their reserved
 * slots or later, never earlier. Sorted, the k-th arrival (0-based) comes no earlier than `from` plus
 * (k - burst) emission intervals. Delays on a loaded machine only make arrivals later, so this fails only
 * when the limiter lets a request through early. Returns the arrivals that came too early.
 */
function earlierThanSlots(times: number[], from: number, perSecond: number, burst = 1): { k: number; earlyByMs: number }[] {
  const interval = 1000 / perSecond;
  return [...times]
    .sort((a, b) => a - b)
    .map((at, k) => ({ k, earlyByMs: Math.round(from + Math.max(0, k - burst) * interval - at) }))
    .filter((x) => x.earlyByMs > 0);
}

const COOLDOWN_MS = 3000;

/** An API process and two worker processes on one database and one queue prefix. */
async function startCluster(overrides: HeraldEnv) {
  const { env, dispose } = await testEnvironment(overrides);
  const processes: HeraldProcess[] = [];
  const api = await spawnHerald({ ...env, HERALD_ROLE: 'api' });
  processes.push(api);
  for (let i = 0; i < 2; i++) processes.push(await spawnHerald({ ...env, HERALD_ROLE: 'worker' }));
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  return {
    env,
    api: new ApiClient(api.url),
    sql: async <T = any>(text: string, params?: unknown[]) => (await db.query(text, params as unknown[])).rows as T[],
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await db.end();
      await dispose();
    },
  };
}

type Cluster = Awaited<ReturnType<typeof startCluster>>;

async function publishBatch(api: ApiClient, tenantId: string, eventType: string, count: number) {
  const res = await api.post(`/v1/tenants/${tenantId}/events/batch`, { events: Array.from({ length: count }, (_, i) => ({ eventType, payload: { i } })) });
  if (res.status !== 202) throw new Error(`batch publish failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; deliveryCount: number }[];
}

describe('per-endpoint limits and health, two workers', () => {
  let cluster: Cluster;
  const receivers: TestReceiver[] = [];
  const receiver = async () => {
    const r = await TestReceiver.start();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    cluster = await startCluster({ HERALD_CIRCUIT_THRESHOLD: '10', HERALD_CIRCUIT_COOLDOWN_MS: String(COOLDOWN_MS) });
  });
  afterAll(async () => {
    await cluster?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  const api = () => cluster.api;
  const attemptsPerDelivery = (endpointId: string) =>
    cluster.sql<{ n: number }>(`SELECT (SELECT count(*)::int FROM attempts a WHERE a.delivery_id = d.id) AS n FROM deliveries d WHERE d.endpoint_id = $1`, [endpointId]);

  it('sends at most rateLimitPerSecond (+1) requests in any second, each delivery in exactly one attempt', async () => {
    const r = await receiver();
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: r.url, rateLimitPerSecond: 10 });

    const publishedAt = Date.now();
    const events = await publishBatch(api(), tenant.id, 'rl.ten', 60);

    await waitFor('all 60 requests', () => r.received.length >= 60, 30_000);
    await waitFor('all succeeded', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 60);
    expect(r.received).toHaveLength(60);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(events.map((e) => e.id)));
    // No request before its slot: the k-th no earlier than publishing + (k - 1) × 100 ms, so the 60th ≥ 5.9 s.
    expect(earlierThanSlots(r.received.map((x) => x.at), publishedAt, 10)).toEqual([]);

    const perDelivery = await attemptsPerDelivery(endpoint.id);
    expect(perDelivery.map((p) => p.n)).toEqual(Array(60).fill(1));
    const deliveries = (await api().get(`/v1/tenants/${tenant.id}/deliveries?endpointId=${endpoint.id}&limit=100`)).body.data;
    expect(deliveries.every((d: any) => d.attemptCount === 1 && d.status === 'succeeded')).toBe(true);
  });

  it('holds the rate for events published with idempotency keys too (their slots are reserved by the worker, not inside the publishing transaction)', async () => {
    const r = await receiver();
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: r.url, rateLimitPerSecond: 10 });

    const publishedAt = Date.now();
    const res = await api().post(`/v1/tenants/${tenant.id}/events/batch`, { events: Array.from({ length: 30 }, (_, i) => ({ eventType: 'rl.keyed', idempotencyKey: `k-${i}`, payload: { i } })) });
    expect(res.status).toBe(202);

    await waitFor('all 30 succeeded', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 30, 30_000);
    expect(r.received).toHaveLength(30);
    expect(earlierThanSlots(r.received.map((x) => x.at), publishedAt, 10)).toEqual([]);
    expect((await attemptsPerDelivery(endpoint.id)).map((p) => p.n)).toEqual(Array(30).fill(1));
  });

  it('keeps at most maxInFlight requests open at once', async () => {
    const r = (await receiver()).always({ status: 200, delayMs: 500 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: r.url, maxInFlight: 2 });

    await publishBatch(api(), tenant.id, 'if.two', 10);

    await waitFor('all 10 requests', () => r.received.length >= 10, 30_000);
    expect(r.maxInFlight).toBe(2);
    await waitFor('all succeeded', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 10);
    expect((await attemptsPerDelivery(endpoint.id)).map((p) => p.n)).toEqual(Array(10).fill(1));
  });

  it('does not let a throttled endpoint delay another endpoint on the same shard', async () => {
    const slow = await receiver();
    const fast = await receiver();
    const tenant = await createTenant(api());
    const shards = Number(cluster.env.HERALD_SHARDS);
    const a = await createEndpoint(api(), tenant.id, { url: slow.url, rateLimitPerSecond: 2, eventTypes: ['hol.a'] });
    let b: { id: string } | undefined;
    for (let i = 0; i < 50 && !b; i++) {
      const candidate = await createEndpoint(api(), tenant.id, { url: fast.url, eventTypes: [`hol.b${i}`] });
      if (shardOf(candidate.id, shards) === shardOf(a.id, shards)) b = { ...candidate, type: `hol.b${i}` } as { id: string; type: string };
      else await api().delete(`/v1/tenants/${tenant.id}/endpoints/${candidate.id}`);
    }
    expect(b).toBeDefined();

    const publishedAt = Date.now();
    await publishBatch(api(), tenant.id, 'hol.a', 500);
    await publishBatch(api(), tenant.id, (b as unknown as { type: string }).type, 50);

    await waitFor('50 requests at B', () => fast.received.length >= 50, 20_000);
    // B did not wait behind A's backlog: A is still sending at its 2/s, far from its 500.
    const aSoFar = slow.received.length;
    expect(aSoFar).toBeLessThan(500);
    expect(earlierThanSlots(slow.received.map((x) => x.at), publishedAt, 2)).toEqual([]);

    // The throttled endpoint's wait is visible in its stats: slots reserved far ahead, deliveries scheduled.
    const stats = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${a.id}/stats`)).body;
    expect(stats.rateLimit.rateLimitPerSecond).toBe(2);
    expect(stats.rateLimit.backlogMs).toBeGreaterThan(200_000);
    expect(stats.deliveries.pending + stats.deliveries.succeeded).toBe(500);
    expect(stats.deliveries.scheduled).toBeGreaterThan(450);
  });

  it('opens the circuit after 10 consecutive failures, sends nothing during the cool-down, then a success closes it', async () => {
    // The receiver fails until the circuit is seen open, however long a busy machine takes to record the
    // failures (retries sent meanwhile fail too, so the failures stay consecutive); then it recovers.
    const r = (await receiver()).always({ status: 500 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, {
      url: r.url,
      retryPolicy: { maxAttempts: 50, initialDelayMs: 500, maxDelayMs: 1000, multiplier: 2 },
    });

    await publishBatch(api(), tenant.id, 'cb.fail', 10);
    const during = await waitFor('the circuit to open', async () => {
      const s = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body;
      return s.circuit.state === 'open' && s;
    });
    r.always({ status: 200 });
    expect(during.circuit.consecutiveFailures).toBeGreaterThanOrEqual(10);
    expect(during.lastHour).toMatchObject({ succeeded: 0, successRate: 0 });
    expect(during.lastHour.failed).toBeGreaterThanOrEqual(10);

    await waitFor('all 10 delivered', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 10, 30_000);
    // Nothing was sent during the cool-down: the circuit's own window, from its opening (until minus the
    // cool-down) to `until`, holds no attempt.
    const until = Date.parse(during.circuit.until);
    const inCoolDown = await cluster.sql(
      `SELECT a.id FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1 AND a.started_at > $2 AND a.started_at < $3`,
      [endpoint.id, new Date(until - COOLDOWN_MS + 50), new Date(until - 50)],
    );
    expect(inCoolDown).toEqual([]);
    // Waiting was not an attempt: every attempt is a failure before the circuit opened or the one success.
    const attempts = await cluster.sql<{ n: number; ok: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE a.status_code = 200)::int AS ok FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1`,
      [endpoint.id],
    );
    expect(attempts[0].ok).toBe(10);
    expect(attempts[0].n).toBe(r.received.length);
    const after = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body;
    expect(after.circuit).toEqual({ state: 'closed', until: null, consecutiveFailures: 0, failingSince: null });
    expect(after.lastHour).toMatchObject({ attempts: attempts[0].n, succeeded: 10 });
    expect(after.lastHour.p50LatencyMs).toEqual(expect.any(Number));
  });

  it('applies a PATCH of rateLimitPerSecond within seconds, without restarts', async () => {
    const r = await receiver();
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: r.url });
    // Workers cache the endpoint once they have delivered to it.
    await publishBatch(api(), tenant.id, 'patch.me', 3);
    await waitFor('the first three', () => r.received.length >= 3);

    expect((await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { rateLimitPerSecond: 2 })).status).toBe(200);
    // Other processes learn of the change by a Redis message: wait for it, not a fixed time.
    await sleep(1000);
    r.received.length = 0;
    const publishedAt = Date.now();
    await publishBatch(api(), tenant.id, 'patch.me', 6);
    await waitFor('six more', () => r.received.length >= 6, 15_000);
    expect(earlierThanSlots(r.received.map((x) => x.at), publishedAt, 2)).toEqual([]);
  });

  it('refuses publishing above the tenant rate with 429 and Retry-After, storing nothing of it', async () => {
    const r = await receiver();
    const RATE = 2;
    const N = 40;
    const tenant = await createTenant(api(), { publishRateLimitPerSecond: RATE });
    await createEndpoint(api(), tenant.id, { url: r.url });

    // One burst of N simultaneous requests. The limiter's arithmetic: the allowance starts full at one
    // second's worth (RATE) and refills at RATE per second, so over the burst's duration it admits at least
    // RATE (all of them when N ≤ RATE) and at most RATE + RATE × duration (+1 for rounding); the rest are
    // refused. The duration is measured around the whole burst, so a slow machine widens the allowance by
    // exactly what the limiter would refill, never more.
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'pub.limited', payload: { i } })));
    const durationMs = Date.now() - started;
    const accepted = results.filter((x) => x.status === 202);
    const refused = results.filter((x) => x.status === 429);
    const mostAdmitted = RATE + Math.floor((RATE * durationMs) / 1000) + 1;
    expect(accepted.length + refused.length).toBe(N);
    expect(accepted.length).toBeGreaterThanOrEqual(RATE);
    expect(accepted.length).toBeLessThanOrEqual(mostAdmitted);
    expect(refused.length).toBeGreaterThanOrEqual(N - mostAdmitted);
    for (const x of refused) {
      expect(Number(x.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(x.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.any(String) });
    }

    // A batch counts each event: larger than one second's allowance, it could never be admitted, so it is
    // refused whole with 422 and no Retry-After, whatever the allowance holds now.
    const batch = await api().post(`/v1/tenants/${tenant.id}/events/batch`, { events: Array.from({ length: RATE + 1 }, () => ({ eventType: 'pub.limited', payload: {} })) });
    expect(batch.status).toBe(422);
    expect(batch.headers.get('retry-after')).toBeNull();
    expect(batch.body).toMatchObject({ details: [{ field: 'events' }] });

    await waitFor('the accepted events delivered', () => r.received.length >= accepted.length);
    const stored = await cluster.sql<{ id: string }>(`SELECT id FROM events WHERE tenant_id = $1`, [tenant.id]);
    expect(new Set(stored.map((e) => e.id))).toEqual(new Set(accepted.map((x) => x.body.id)));
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(accepted.map((x) => x.body.id)));

    // The allowance refills: after a second (at least RATE cells), publishing works again.
    await sleep(1000);
    expect((await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'pub.limited', payload: {} })).status).toBe(202);
  });
});

describe('auto-disable of an endpoint failing continuously', () => {
  let herald: HeraldProcess;
  let api: ApiClient;
  let dispose: () => Promise<void>;
  let r: TestReceiver;

  beforeAll(async () => {
    const environment = await testEnvironment({ HERALD_DISABLE_AFTER_MS: '2000', HERALD_CIRCUIT_THRESHOLD: '1000' });
    dispose = environment.dispose;
    herald = await spawnHerald(environment.env);
    api = new ApiClient(herald.url);
    r = await TestReceiver.start();
  });
  afterAll(async () => {
    await herald?.stop();
    await r?.close();
    await dispose?.();
  });

  it('disables the endpoint with disabledReason "failing"; its delivery waits, pending', async () => {
    r.always({ status: 500 });
    const tenant = await createTenant(api);
    const endpoint = await createEndpoint(api, tenant.id, { url: r.url, retryPolicy: { maxAttempts: 50, initialDelayMs: 200, maxDelayMs: 400, multiplier: 2 } });
    await api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'x.y', payload: {} });

    const ep = await waitFor(
      'auto-disable',
      async () => {
        const body = (await api.get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body;
        return body.disabled && body;
      },
      15_000,
      100,
    );
    expect(ep.disabledReason).toBe('failing');
    const first = r.received[0].at;
    expect(r.received[r.received.length - 1].at - first).toBeGreaterThanOrEqual(2000);

    await sleep(1500);
    const count = r.received.length;
    await sleep(1000);
    expect(r.received).toHaveLength(count);
    const [d] = (await api.get(`/v1/tenants/${tenant.id}/deliveries?endpointId=${endpoint.id}`)).body.data;
    expect(d).toMatchObject({ status: 'pending', nextAttemptAt: null });
    expect((await api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'x.y', payload: {} })).body.deliveryCount).toBe(0);
  });
});
