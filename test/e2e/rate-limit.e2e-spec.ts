import { Client } from 'pg';
import { shardOf } from '../../src/queues/delivery-queues';
import { createEndpoint, createTenant } from '../support/fixtures';
import { ApiClient, HeraldEnv, HeraldProcess, spawnHerald, testEnvironment } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

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

const COOLDOWN_MS = 3000;

/** An API process and two worker processes on one database and one queue prefix. */
async function startCluster(overrides: HeraldEnv) {
  const { env, dropDatabase } = await testEnvironment(overrides);
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
      await dropDatabase();
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

    const events = await publishBatch(api(), tenant.id, 'rl.ten', 60);

    await waitFor('all 60 requests', () => r.received.length >= 60, 30_000);
    await sleep(500);
    expect(r.received).toHaveLength(60);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(events.map((e) => e.id)));
    expect(maxInWindow(r.received.map((x) => x.at), 1000)).toBeLessThanOrEqual(11);
    // 60 at 10/s cannot all arrive in much under 6 s (Herald keeps 10 % headroom: ~6.5 s).
    const span = r.received[59].at - r.received[0].at;
    expect(span).toBeGreaterThanOrEqual(5000);

    await waitFor('all succeeded', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 60);
    const perDelivery = await attemptsPerDelivery(endpoint.id);
    expect(perDelivery.map((p) => p.n)).toEqual(Array(60).fill(1));
    const deliveries = (await api().get(`/v1/tenants/${tenant.id}/deliveries?endpointId=${endpoint.id}&limit=100`)).body.data;
    expect(deliveries.every((d: any) => d.attemptCount === 1 && d.status === 'succeeded')).toBe(true);
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

    await publishBatch(api(), tenant.id, 'hol.a', 500);
    await publishBatch(api(), tenant.id, (b as unknown as { type: string }).type, 50);

    await waitFor('50 requests at B', () => fast.received.length >= 50, 20_000);
    expect(slow.received.length).toBeLessThan(10);

    // The throttled endpoint's wait is visible in its stats: slots reserved far ahead, deliveries scheduled.
    const stats = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${a.id}/stats`)).body;
    expect(stats.rateLimit.rateLimitPerSecond).toBe(2);
    expect(stats.rateLimit.backlogMs).toBeGreaterThan(200_000);
    expect(stats.deliveries.pending + stats.deliveries.succeeded).toBe(500);
    expect(stats.deliveries.scheduled).toBeGreaterThan(450);
  });

  it('opens the circuit after 10 consecutive failures, sends nothing during the cool-down, then a success closes it', async () => {
    const r = (await receiver()).replyWith(Array(10).fill({ status: 500 }), { status: 200 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, {
      url: r.url,
      retryPolicy: { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 1000, multiplier: 2 },
    });

    await publishBatch(api(), tenant.id, 'cb.fail', 10);
    await waitFor('10 failed attempts', () => r.received.length >= 10, 10_000);
    const opened = r.received[9].at;

    const during = await waitFor('the circuit to open', async () => {
      const s = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body;
      return s.circuit.state === 'open' && s;
    });
    expect(Date.parse(during.circuit.until)).toBeGreaterThan(Date.now());
    expect(during.circuit.consecutiveFailures).toBeGreaterThanOrEqual(10);
    expect(during.lastHour).toMatchObject({ attempts: 10, succeeded: 0, failed: 10, successRate: 0 });
    // The retries (due after ~0.5 s) wait for the cool-down instead of burning attempts.
    await sleep(COOLDOWN_MS - 600);
    expect(r.received).toHaveLength(10);

    await waitFor('all 10 delivered', async () => (await cluster.sql(`SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [endpoint.id])).length === 10, 20_000);
    expect(r.received[10].at - opened).toBeGreaterThanOrEqual(COOLDOWN_MS - 50);
    expect(r.received).toHaveLength(20);
    // Waiting was not an attempt: each delivery made exactly its failed first attempt and the successful second.
    expect((await attemptsPerDelivery(endpoint.id)).map((p) => p.n)).toEqual(Array(10).fill(2));
    const after = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/stats`)).body;
    expect(after.circuit).toEqual({ state: 'closed', until: null, consecutiveFailures: 0, failingSince: null });
    expect(after.lastHour).toMatchObject({ attempts: 20, succeeded: 10, successRate: 0.5 });
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
    await sleep(1000);
    r.received.length = 0;
    await publishBatch(api(), tenant.id, 'patch.me', 6);
    await waitFor('six more', () => r.received.length >= 6, 15_000);
    expect(r.received[5].at - r.received[0].at).toBeGreaterThanOrEqual(2400);
    expect(maxInWindow(r.received.map((x) => x.at), 1000)).toBeLessThanOrEqual(3);
  });

  it('refuses publishing above the tenant rate with 429 and Retry-After, storing nothing of it', async () => {
    const r = await receiver();
    const tenant = await createTenant(api(), { publishRateLimitPerSecond: 20 });
    await createEndpoint(api(), tenant.id, { url: r.url });

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'pub.limited', payload: { i } })));
    const elapsed = Date.now() - started;
    const accepted = results.filter((x) => x.status === 202);
    const refused = results.filter((x) => x.status === 429);
    expect(accepted.length + refused.length).toBe(40);
    // A second's worth at once, then the rate: at most 20 + 20/s over the time the burst took.
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(accepted.length).toBeLessThanOrEqual(20 + Math.ceil((20 * elapsed) / 1000));
    expect(refused.length).toBeGreaterThan(0);
    for (const x of refused) {
      expect(Number(x.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(x.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.any(String) });
    }

    // A batch counts each event: larger than the allowance, it is refused whole.
    const batch = await api().post(`/v1/tenants/${tenant.id}/events/batch`, { events: Array.from({ length: 21 }, () => ({ eventType: 'pub.limited', payload: {} })) });
    expect(batch.status).toBe(429);
    expect(batch.headers.get('retry-after')).toBeTruthy();

    await waitFor('the accepted events delivered', () => r.received.length >= accepted.length);
    await sleep(1500);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(accepted.map((x) => x.body.id)));
    expect(r.received).toHaveLength(accepted.length);
    const stored = await cluster.sql<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1`, [tenant.id]);
    expect(stored[0].n).toBe(accepted.length);

    // The allowance refills: a second later publishing works again.
    await sleep(1000);
    expect((await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'pub.limited', payload: {} })).status).toBe(202);
  });
});

describe('auto-disable of an endpoint failing continuously', () => {
  let herald: HeraldProcess;
  let api: ApiClient;
  let dropDatabase: () => Promise<void>;
  let r: TestReceiver;

  beforeAll(async () => {
    const environment = await testEnvironment({ HERALD_DISABLE_AFTER_MS: '2000', HERALD_CIRCUIT_THRESHOLD: '1000' });
    dropDatabase = environment.dropDatabase;
    herald = await spawnHerald(environment.env);
    api = new ApiClient(herald.url);
    r = await TestReceiver.start();
  });
  afterAll(async () => {
    await herald?.stop();
    await r?.close();
    await dropDatabase?.();
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
