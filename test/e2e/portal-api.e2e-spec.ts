import { FAST_RETRY, createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/** The routes the console needs beyond the contract: stats over time, test sends, bulk resend, the eventType filter. */
describe('console API', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let tenant: { id: string };

  beforeAll(async () => {
    herald = await startHerald();
    receiver = await TestReceiver.start();
    tenant = await createTenant(herald.api);
  });
  afterAll(async () => {
    await receiver.close();
    await herald.close();
  });

  const deliveries = async (query: string) => (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries?${query}`)).body.data as { id: string; status: string; eventType: string }[];

  it('answers stats as a time series with window and step, and validates both', async () => {
    const ep = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/stats`, eventTypes: ['stats.*'] });
    const published = await Promise.all([1, 2, 3].map((n) => publish(herald.api, tenant.id, 'stats.tick', { n })));
    await waitFor('three deliveries succeeded', async () => (await deliveries(`endpointId=${ep.id}&status=succeeded`)).length === 3);
    const plain = await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/stats`);
    expect(plain.status).toBe(200);
    expect(plain.body.series).toBeUndefined();
    expect(plain.body.deliveries).toMatchObject({ succeeded: 3 });

    const res = await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/stats?window=24h&step=1h`);
    expect(res.status).toBe(200);
    const series = res.body.series;
    expect(series).toMatchObject({ window: '24h', step: '1h', total: { attempts: 3, succeeded: 3, failed: 0, successRate: 1 } });
    expect(series.points).toHaveLength(24);
    expect(Date.parse(series.points[1].start) - Date.parse(series.points[0].start)).toBe(3600_000);
    const sum = (f: (p: any) => number) => series.points.reduce((s: number, p: any) => s + f(p), 0);
    expect(sum((p) => p.attempts)).toBe(3);
    expect(sum((p) => p.deliveries.succeeded)).toBe(3);
    const busy = series.points.find((p: any) => p.attempts > 0);
    expect(busy.p50LatencyMs).toEqual(expect.any(Number));
    expect(busy.p99LatencyMs).toBeGreaterThanOrEqual(busy.p50LatencyMs);
    expect(Date.parse(series.points[23].start)).toBeLessThanOrEqual(Date.now());
    expect(published).toHaveLength(3);

    const perTenant = await herald.api.get(`/v1/tenants/${tenant.id}/stats?window=1h&step=5m`);
    expect(perTenant.status).toBe(200);
    expect(perTenant.body.series.points).toHaveLength(12);
    expect(perTenant.body.series.total.attempts).toBeGreaterThanOrEqual(3);

    for (const [query, field] of [['window=25x', 'window'], ['window=24h&step=1s', 'step'], ['window=30d&step=1m', 'step'], ['window=31d', 'window'], ['window=1h&step=2h', 'step']]) {
      const bad = await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/stats?${query}`);
      expect([query, bad.status]).toEqual([query, 400]);
      expect(bad.body.message).toContain(field);
    }
  });

  it('sends a test event to one endpoint only, through the pipeline', async () => {
    const target = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/example` });
    await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/bystander` });
    const res = await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${target.id}/send-example`, {});
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^evt_/), eventType: 'herald.test', deliveryCount: 1, deliveryId: expect.stringMatching(/^dlv_/) });
    const got = (await waitFor('the receiver got the test event', () => receiver.forPath('/example').find((r) => r.headers['webhook-id'] === res.body.id)))!;
    expect(JSON.parse(got.body)).toMatchObject({ type: 'herald.test', test: true });
    expect(got.headers['webhook-signature']).toMatch(/^v1,/);
    const custom = await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${target.id}/send-example`, { eventType: 'invoice.paid', payload: { amount: 5 } });
    expect(custom.status).toBe(202);
    const second = (await waitFor('the custom test event', () => receiver.forPath('/example').find((r) => r.headers['webhook-id'] === custom.body.id)))!;
    expect(second.body).toBe('{"amount":5}');
    expect(receiver.forPath('/bystander').filter((r) => [res.body.id, custom.body.id].includes(r.headers['webhook-id'] as string))).toEqual([]);
    await waitFor('the test delivery recorded as succeeded', async () => (await deliveries(`eventId=${custom.body.id}`)).map((d) => d.status).join() === 'succeeded');

    // The attempt's request, rebuilt: the very headers the receiver got, signature included.
    const [attempt] = (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${custom.body.deliveryId}/attempts`)).body.data;
    const request = await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${custom.body.deliveryId}/attempts/${attempt.id}/request`);
    expect(request.status).toBe(200);
    expect(request.body).toEqual({ url: `${receiver.url}/example`, body: '{"amount":5}', headers: expect.any(Object) });
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'user-agent']) expect([name, request.body.headers[name]]).toEqual([name, second.headers[name]]);
    expect(JSON.stringify(request.body)).not.toContain(target.secret);
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${custom.body.deliveryId}/attempts/att_01JAAAAAAAAAAAAAAAAAAAAAAA/request`)).status).toBe(404);

    expect((await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${target.id}/send-example`, { payload: [1] })).status).toBe(400);
    expect((await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${target.id}/send-example`, { eventType: 'bad type' })).status).toBe(400);
    expect((await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/ep_01JAAAAAAAAAAAAAAAAAAAAAAA/send-example`, {})).status).toBe(404);
  });

  it("hides the endpoint's own header values in an attempt's request", async () => {
    const ep = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/with-auth`, headers: { authorization: 'Bearer receiver-credential' } });
    const sent = await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/send-example`, {});
    const got = (await waitFor('the request with the header', () => receiver.forPath('/with-auth').find((r) => r.headers['webhook-id'] === sent.body.id)))!;
    expect(got.headers.authorization).toBe('Bearer receiver-credential');
    const [attempt] = await waitFor('the attempt', async () => {
      const data = (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${sent.body.deliveryId}/attempts`)).body.data;
      return data.length ? data : undefined;
    });
    const request = await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${sent.body.deliveryId}/attempts/${attempt.id}/request`);
    expect(request.body.headers.authorization).toBe('(set on the endpoint, hidden)');
    expect(JSON.stringify(request.body)).not.toContain('receiver-credential');
    expect(request.body.headers['webhook-signature']).toBe(got.headers['webhook-signature']);
  });

  it('says until when the previous secret signs after a rotation', async () => {
    const ep = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/rotate` });
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/secret`)).body).toEqual({ secret: ep.secret, previousSecretSignsUntil: null });
    const before = Date.now();
    const rotated = await herald.api.post(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/secret/rotate`, {});
    const until = Date.parse(rotated.body.previousSecretSignsUntil) - before;
    expect(until).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(until).toBeLessThan(24 * 3600_000 + 60_000);
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${ep.id}/secret`)).body).toEqual({ secret: rotated.body.secret, previousSecretSignsUntil: rotated.body.previousSecretSignsUntil });
  });

  it('filters deliveries by event type and resends every dead one in a filter, in bulk', async () => {
    const ep = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/bulk`, eventTypes: ['bulk.*'], retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
    receiver.always({ status: 500 });
    const dying = await Promise.all([1, 2, 3].map((n) => publish(herald.api, tenant.id, 'bulk.failed', { n })));
    await publish(herald.api, tenant.id, 'bulk.other', { n: 4 });
    await waitFor('four dead deliveries', async () => (await deliveries(`endpointId=${ep.id}&status=dead`)).length === 4);
    expect((await deliveries(`endpointId=${ep.id}&eventType=bulk.failed`)).length).toBe(3);
    expect((await deliveries(`endpointId=${ep.id}&eventType=bulk.other`)).map((d) => d.eventType)).toEqual(['bulk.other']);
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/deliveries?eventType=no%20spaces`)).status).toBe(400);

    receiver.always({ status: 200 });
    const bad = await herald.api.post(`/v1/tenants/${tenant.id}/deliveries/resend`, { status: 'gone' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('status');
    const res = await herald.api.post(`/v1/tenants/${tenant.id}/deliveries/resend`, { status: 'dead', endpointId: ep.id, eventType: 'bulk.failed' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ count: 3, more: false });
    await waitFor('the three resent deliveries succeeded', async () => (await deliveries(`endpointId=${ep.id}&status=succeeded`)).length === 3);
    expect((await deliveries(`endpointId=${ep.id}&status=dead`)).map((d) => d.eventType)).toEqual(['bulk.other']);
    const [d] = await deliveries(`eventId=${dying[0].id}`);
    const attempts = (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts.map((a: { trigger: string }) => a.trigger)).toEqual(['initial', 'manual']);
    // Nothing matches any more: nothing is resent.
    expect((await herald.api.post(`/v1/tenants/${tenant.id}/deliveries/resend`, { status: 'dead', endpointId: ep.id, eventType: 'bulk.failed' })).body).toEqual({ count: 0, more: false });
  });
});
