import { randomBytes } from 'node:crypto';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

describe('operator events', () => {
  const operatorUid = `ops-${randomBytes(4).toString('hex')}`;
  let herald: Herald;
  let ops: TestReceiver;
  let target: TestReceiver;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_OPERATOR_TENANT: operatorUid, HERALD_CIRCUIT_THRESHOLD: '3', HERALD_CIRCUIT_COOLDOWN_MS: '1000' });
    ops = await TestReceiver.start();
    // The operator's own endpoint, subscribed like any other, to every herald.* event.
    expect((await herald.api.get(`/v1/tenants/${operatorUid}`)).status).toBe(200);
    await createEndpoint(herald.api, operatorUid, { url: `${ops.url}/operator`, eventTypes: ['herald.*'] });
  });
  afterAll(async () => {
    await ops.close();
    await herald.close();
  });
  beforeEach(async () => {
    target = await TestReceiver.start();
  });
  afterEach(async () => {
    await target.close();
  });

  const api = () => herald.api;
  /** The operator events received at `path` about this tenant, as parsed payloads. */
  const seen = (path: string, tenantId: string) =>
    ops
      .forPath(path)
      .map((r) => JSON.parse(r.body))
      .filter((e) => e.tenantId === tenantId);
  const ofType = (path: string, tenantId: string, type: string) => seen(path, tenantId).filter((e) => e.type === type);

  it('reports dead deliveries, the circuit opening once and the endpoint recovering, to the operator and to the tenant’s herald.* endpoints', async () => {
    target.always({ status: 500 });
    const tenant = await createTenant(api());
    const failing = await createEndpoint(api(), tenant.id, { url: `${target.url}/hook`, eventTypes: ['order.*'], retryPolicy: { maxAttempts: 1, initialDelayMs: 100, maxDelayMs: 100, multiplier: 1 } });
    await createEndpoint(api(), tenant.id, { url: `${ops.url}/tenant`, eventTypes: ['herald.*'] });
    await createEndpoint(api(), tenant.id, { url: `${ops.url}/everything` });

    for (let i = 0; i < 3; i++) await publish(api(), tenant.id, 'order.created', { i });
    await waitFor('three dead deliveries and the circuit opening, reported to the operator', () => ofType('/operator', tenant.id, 'herald.delivery.dead').length === 3 && ofType('/operator', tenant.id, 'herald.endpoint.circuit_opened').length === 1);
    // The fourth waits for the circuit's cool-down; the probe then succeeds.
    target.always({ status: 200 });
    await publish(api(), tenant.id, 'order.created', { i: 3 });
    await waitFor('the recovery, at the operator and at the tenant', () => ofType('/operator', tenant.id, 'herald.endpoint.recovered').length === 1 && ofType('/tenant', tenant.id, 'herald.endpoint.recovered').length === 1);

    for (const path of ['/operator', '/tenant']) {
      const events = seen(path, tenant.id);
      expect(events.filter((e) => e.type === 'herald.endpoint.circuit_opened')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'herald.delivery.dead')).toHaveLength(3);
    }
    const [opened] = ofType('/operator', tenant.id, 'herald.endpoint.circuit_opened');
    expect(opened).toMatchObject({ endpointId: failing.id, url: `${target.url}/hook`, consecutiveFailures: 3, retryAt: expect.any(String), occurredAt: expect.any(String) });
    const dead = ofType('/tenant', tenant.id, 'herald.delivery.dead')[0];
    expect(dead).toMatchObject({ endpointId: failing.id, eventType: 'order.created', attempts: 1, lastError: 'HTTP 500', deliveryId: expect.stringMatching(/^dlv_/) });
    // An endpoint that takes every type did not ask for Herald's own events.
    expect(ops.forPath('/everything').map((r) => JSON.parse(r.body))).toEqual(expect.not.arrayContaining([expect.objectContaining({ type: expect.stringMatching(/^herald\./) })]));
    await waitFor('the four orders at the endpoint that takes every type', () => ops.forPath('/everything').length === 4);
    const events = (await api().get(`/v1/tenants/${operatorUid}/events?eventType=herald.delivery.dead`)).body.data;
    expect(events.filter((e: any) => e.eventType === 'herald.delivery.dead').length).toBeGreaterThanOrEqual(3);
  });

  it('reports an endpoint disabled by 410 Gone, with the reason', async () => {
    target.always({ status: 410 });
    const tenant = await createTenant(api());
    const gone = await createEndpoint(api(), tenant.id, { url: target.url });
    await publish(api(), tenant.id, 'a.b', {});
    await publish(api(), tenant.id, 'a.b', {});
    await waitFor('endpoint.disabled', () => ofType('/operator', tenant.id, 'herald.endpoint.disabled').length === 1);
    expect(ofType('/operator', tenant.id, 'herald.endpoint.disabled')[0]).toMatchObject({ endpointId: gone.id, reason: 'gone' });
    // The tenant has no herald.* endpoint: nothing is published into its own event list.
    expect((await api().get(`/v1/tenants/${tenant.id}/events`)).body.data.map((e: any) => e.eventType)).toEqual(['a.b', 'a.b']);
  });

  it('reports a source failing verification once per run of failures', async () => {
    const tenant = await createTenant(api());
    const source = (await api().post(`/v1/tenants/${tenant.id}/sources`, { name: 'forms', verifier: { type: 'api-key', header: 'X-Api-Key', value: 'right-key' } })).body;
    const send = (key: string) => fetch(`${herald.url}/in/${source.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{}' });
    for (let i = 0; i < 12; i++) expect((await send('wrong')).status).toBe(401);
    await waitFor('source.verification_failing', () => ofType('/operator', tenant.id, 'herald.source.verification_failing').length === 1);
    expect((await send('right-key')).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await send('wrong')).status).toBe(401);
    await waitFor('a second report after a verified request', () => ofType('/operator', tenant.id, 'herald.source.verification_failing').length === 2);
    expect(ofType('/operator', tenant.id, 'herald.source.verification_failing')[0]).toMatchObject({ sourceId: source.id, sourceName: 'forms', consecutiveFailures: 10, lastReason: expect.any(String) });
  });
});
