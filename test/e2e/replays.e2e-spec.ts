import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald, testEnvironment } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

// The circuit threshold is raised below: these endpoints fail on purpose, many times in a row.
const ONE_ATTEMPT = { maxAttempts: 1, initialDelayMs: 100, maxDelayMs: 100, multiplier: 1 };

describe('durable bulk replays', () => {
  let herald: Herald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_REPLAY_PAGE_SIZE: '5', HERALD_CIRCUIT_THRESHOLD: '1000' });
  });
  afterAll(async () => {
    await herald.close();
  });
  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await receiver.close();
  });

  const api = () => herald.api;
  const replayOf = async (tenantId: string, id: string) => (await api().get(`/v1/tenants/${tenantId}/replays/${id}`)).body;
  const finished = (tenantId: string, id: string) =>
    waitFor(`replay ${id} to finish`, async () => {
      const replay = await replayOf(tenantId, id);
      return replay.status !== 'running' && replay;
    });

  /** A tenant whose endpoint dead-lettered `n` events (one attempt each, answered 500). */
  async function deadLetters(n: number, extra: Record<string, unknown> = {}) {
    receiver.always({ status: 500 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: ONE_ATTEMPT, ...extra });
    const since = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < n; i++) await publish(api(), tenant.id, i % 2 ? 'order.created' : 'invoice.paid', { i });
    await waitFor(`${n} dead`, async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=dead&limit=250`)).body.data.length === n);
    receiver.received.length = 0;
    receiver.always({ status: 200 });
    return { tenant, endpoint, since };
  }

  it('resends the dead deliveries of a window in pages, once each, and reports its progress', async () => {
    const { tenant, endpoint, since } = await deadLetters(12);
    const created = await api().post(`/v1/tenants/${tenant.id}/replays`, { since, endpointId: endpoint.id, status: ['dead'] });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ id: expect.stringMatching(/^rpl_/) });

    const replay = await finished(tenant.id, created.body.id);
    expect(replay).toMatchObject({ status: 'done', total: 12, done: 12, queued: 12, endpointId: endpoint.id, statuses: ['dead'], missing: false, error: null, createdAt: expect.any(String) });
    await waitFor('all succeeded', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=succeeded&limit=250`)).body.data.length === 12);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(12);
    expect(receiver.received).toHaveLength(12);
    const [delivery] = (await api().get(`/v1/tenants/${tenant.id}/deliveries?limit=1`)).body.data;
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.trigger, a.statusCode])).toEqual([
      ['initial', 500],
      ['manual', 200],
    ]);
  });

  it('selects by event type and status', async () => {
    const { tenant, since } = await deadLetters(6);
    const byType = (await api().post(`/v1/tenants/${tenant.id}/replays`, { since, eventTypes: ['invoice.*'] })).body;
    expect(await finished(tenant.id, byType.id)).toMatchObject({ status: 'done', total: 3, done: 3 });
    await waitFor('three invoices resent', () => receiver.received.length === 3);
    const succeeded = (await api().post(`/v1/tenants/${tenant.id}/replays`, { since, status: ['succeeded'], eventTypes: ['order.created'] })).body;
    expect(await finished(tenant.id, succeeded.id)).toMatchObject({ status: 'done', total: 0 });
  });

  it('creates the deliveries an endpoint never got: before it existed, while disabled, while its filter excluded them', async () => {
    receiver.always({ status: 200 });
    const tenant = await createTenant(api());
    const since = new Date(Date.now() - 1000).toISOString();
    const before = await publish(api(), tenant.id, 'invoice.paid', { region: 'eu', n: 1 });
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, filter: { region: 'us' } });
    const excluded = await publish(api(), tenant.id, 'invoice.paid', { region: 'eu', n: 2 });
    const delivered = await publish(api(), tenant.id, 'invoice.paid', { region: 'us', n: 3 });
    await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { disabled: true });
    const whileDisabled = await publish(api(), tenant.id, 'invoice.paid', { region: 'eu', n: 4 });
    const neverWanted = await publish(api(), tenant.id, 'invoice.paid', { region: 'apac', n: 5 });
    await waitFor('the one delivered', () => receiver.received.length === 1);
    await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { disabled: false, filter: { region: { $in: ['us', 'eu'] } } });

    const replay = (await api().post(`/v1/tenants/${tenant.id}/replays`, { since, endpointId: endpoint.id, missing: true })).body;
    // Five events in the window, four without a delivery to this endpoint, three of which it subscribes to now.
    expect(await finished(tenant.id, replay.id)).toMatchObject({ status: 'done', total: 4, done: 4, queued: 3, missing: true });
    await waitFor('the three missing ones', () => receiver.received.length === 4);
    expect(receiver.received.map((r) => r.headers['webhook-id']).sort()).toEqual([before.id, excluded.id, delivered.id, whileDisabled.id].sort());
    expect(receiver.received.map((r) => r.headers['webhook-id'])).not.toContain(neverWanted.id);

    // Nothing is missing any more: a second one creates nothing.
    const again = (await api().post(`/v1/tenants/${tenant.id}/replays`, { since, endpointId: endpoint.id, missing: true })).body;
    expect(await finished(tenant.id, again.id)).toMatchObject({ status: 'done', queued: 0 });
  });

  it('refuses bad input naming the field, and answers 404 for another tenant’s replay', async () => {
    const tenant = await createTenant(api());
    const path = `/v1/tenants/${tenant.id}/replays`;
    const bad = async (body: unknown, field: string) => {
      const res = await api().post(path, body);
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: any) => d.field)).toContain(field);
    };
    await bad({ since: 'yesterday' }, 'since');
    await bad({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'since');
    await bad({ since: '2026-01-01T00:00:00Z', status: ['lost'] }, 'status');
    await bad({ since: '2026-01-01T00:00:00Z', missing: true }, 'endpointId');
    await bad({ since: '2026-01-01T00:00:00Z', missing: false }, 'missing');
    expect((await api().post(path, { since: '2026-01-01T00:00:00Z', endpointId: 'ep_nope' })).status).toBe(404);
    const other = await createTenant(api());
    const theirs = (await api().post(`/v1/tenants/${other.id}/replays`, { since: '2026-01-01T00:00:00Z' })).body;
    expect((await api().get(`${path}/${theirs.id}`)).status).toBe(404);
  });
});

describe('durable bulk replays across a restart, and cancelled', () => {
  it('resumes from its position after the worker stops, and a cancel stops it', async () => {
    const receiver = await TestReceiver.start();
    const { env, dispose } = await testEnvironment({ HERALD_REPLAY_PAGE_SIZE: '4', HERALD_CIRCUIT_THRESHOLD: '1000' });
    let herald = await startHerald({}, { env });
    try {
      receiver.always({ status: 500 });
      const tenant = await createTenant(herald.api);
      const endpoint = await createEndpoint(herald.api, tenant.id, { url: receiver.url, retryPolicy: ONE_ATTEMPT, timeoutMs: 60000 });
      const since = new Date(Date.now() - 1000).toISOString();
      for (let i = 0; i < 40; i++) await publish(herald.api, tenant.id, 'a.b', { i });
      await waitFor('40 dead', async () => (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries?status=dead&limit=250`)).body.data.length === 40);
      // Slow answers keep the replay going long enough to stop it in the middle.
      receiver.received.length = 0;
      receiver.always({ status: 200, delayMs: 150 });

      const { id } = (await herald.api.post(`/v1/tenants/${tenant.id}/replays`, { since, endpointId: endpoint.id })).body;
      await waitFor('a few pages', async () => (await herald.api.get(`/v1/tenants/${tenant.id}/replays/${id}`)).body.done >= 8);
      await herald.close(); // a graceful stop: the runner gives its lease up after the page in progress
      herald = await startHerald({}, { env });
      const [atRestart] = await herald.sql(`SELECT status, position, done FROM replays WHERE id = $1`, [id]);
      expect(atRestart).toMatchObject({ status: 'running', position: expect.stringMatching(/^dlv_/) });
      expect(atRestart.done).toBeGreaterThanOrEqual(8);

      const replay = await waitFor('done after the restart', async () => {
        const r = (await herald.api.get(`/v1/tenants/${tenant.id}/replays/${id}`)).body;
        return r.status === 'done' && r;
      });
      // Resumed where it stopped: each delivery handled once, none twice.
      expect(replay).toMatchObject({ total: 40, done: 40, queued: 40 });
      await waitFor('every delivery succeeded', async () => (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries?status=succeeded&limit=250`)).body.data.length === 40);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(40);

      // Cancel: a second replay whose first page hangs at the receiver (the pacing holds the next page back).
      receiver.always({ status: 200, hang: true });
      const second = (await herald.api.post(`/v1/tenants/${tenant.id}/replays`, { since, endpointId: endpoint.id, status: ['succeeded'] })).body;
      const cancelled = await herald.api.post(`/v1/tenants/${tenant.id}/replays/${second.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', total: 40, finishedAt: expect.any(String) });
      expect(cancelled.body.done).toBeLessThanOrEqual(4);
      expect((await herald.api.post(`/v1/tenants/${tenant.id}/replays/${second.id}/cancel`)).status).toBe(409);
    } finally {
      await receiver.close();
      await herald.close();
      await dispose();
    }
  });
});
