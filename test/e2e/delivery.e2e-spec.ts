import { Webhook } from 'standardwebhooks';
import { FAST_RETRY, createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

describe('delivery pipeline', () => {
  let herald: Herald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    herald = await startHerald();
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
  const delivery = async (tenantId: string, eventId: string) => (await api().get(`/v1/tenants/${tenantId}/deliveries?eventId=${eventId}`)).body.data;

  it('fans an event out to every matching endpoint, signed, with the payload byte for byte', async () => {
    const tenant = await createTenant(api());
    const a = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/a`, eventTypes: ['invoice.paid'] });
    const b = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/b`, eventTypes: ['invoice.*'] });
    await createEndpoint(api(), tenant.id, { url: `${receiver.url}/c`, eventTypes: ['user.created'] });
    const payload = { amount: 4200, currency: 'EUR', note: 'naïve café ☕', nested: { list: [1, 2.5, null, true] } };

    const publishedAt = Math.floor(Date.now() / 1000);
    const event = await publish(api(), tenant.id, 'invoice.paid', payload);
    expect(event).toMatchObject({ id: expect.stringMatching(/^evt_/), eventType: 'invoice.paid', deliveryCount: 2 });

    await waitFor('both endpoints to receive', () => receiver.received.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/a', '/b']);
    for (const [path, endpoint] of [['/a', a], ['/b', b]] as const) {
      const request = receiver.forPath(path)[0];
      expect(request.body).toBe(JSON.stringify(payload));
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^Herald\//);
      expect(request.headers['webhook-id']).toBe(event.id);
      // The attempt's own time: not before the publish, not after the receiver got it (whole seconds).
      const timestamp = Number(request.headers['webhook-timestamp']);
      expect(timestamp).toBeGreaterThanOrEqual(publishedAt);
      expect(timestamp).toBeLessThanOrEqual(Math.ceil(request.at / 1000));
      expect(new Webhook(endpoint.secret).verify(request.body, request.headers as Record<string, string>)).toEqual(payload);
      expect(() => new Webhook(a === endpoint ? b.secret : a.secret).verify(request.body, request.headers as Record<string, string>)).toThrow();
    }
    await waitFor('deliveries to succeed', async () => (await delivery(tenant.id, event.id)).every((d: any) => d.status === 'succeeded'));
  });

  it('retries 500, 500 then 200 on the policy schedule, same webhook-id, three attempts logged', async () => {
    receiver.replyWith([{ status: 500, body: 'boom' }, { status: 500 }], { status: 200, body: 'fine' });
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: FAST_RETRY });
    const event = await publish(api(), tenant.id, 'order.created', { n: 1 });

    await waitFor('three requests', () => receiver.received.length >= 3, 15_000);
    const [first, second, third] = receiver.received;
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    // 300 ms then 600 ms, each ±20 %: never earlier (a busy machine can only make them later; the
    // schedule's upper side is retry-delay.spec.ts's to check, with no clock involved).
    expect(second.at - first.at).toBeGreaterThanOrEqual(240);
    expect(third.at - second.at).toBeGreaterThanOrEqual(480);

    const [d] = await waitFor('succeeded', async () => {
      const list = await delivery(tenant.id, event.id);
      return list[0]?.status === 'succeeded' && list;
    });
    expect(d).toMatchObject({ attemptCount: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.attemptNumber, a.trigger, a.statusCode])).toEqual([
      [1, 'initial', 500],
      [2, 'retry', 500],
      [3, 'retry', 200],
    ]);
    expect(attempts[0]).toMatchObject({ responseBody: 'boom', error: null, id: expect.stringMatching(/^att_/) });
    expect(attempts[2].responseBody).toBe('fine');
  });

  it('dead-letters after maxAttempts, lists it under status=dead, and a resend succeeds as manual', async () => {
    receiver.always({ status: 503, body: 'down' });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: { ...FAST_RETRY, initialDelayMs: 100 } });
    const event = await publish(api(), tenant.id, 'order.created', { n: 2 });

    const dead = await waitFor('dead', async () => {
      const list = (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=dead`)).body.data;
      return list.length === 1 && list[0];
    });
    expect(dead).toMatchObject({ eventId: event.id, endpointId: endpoint.id, status: 'dead', attemptCount: 3, lastStatusCode: 503 });
    expect(receiver.received).toHaveLength(3);
    expect((await api().get(`/v1/tenants/${tenant.id}/deliveries?status=succeeded`)).body.data).toHaveLength(0);

    receiver.always({ status: 204 });
    const resent = await api().post(`/v1/tenants/${tenant.id}/deliveries/${dead.id}/resend`);
    expect(resent.status).toBe(202);
    await waitFor('succeeded after resend', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries/${dead.id}`)).body.status === 'succeeded');
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${dead.id}/attempts`)).body.data;
    expect(attempts).toHaveLength(4);
    expect(attempts[3]).toMatchObject({ attemptNumber: 4, trigger: 'manual', statusCode: 204 });
    expect(receiver.received).toHaveLength(4);
    expect((await api().get(`/v1/tenants/${tenant.id}/deliveries?status=dead`)).body.data).toHaveLength(0);
  });

  it('ends an attempt to a hanging receiver at timeoutMs with error timeout', async () => {
    receiver.always({ status: 200, hang: true });
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, timeoutMs: 500, retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
    const event = await publish(api(), tenant.id, 'slow.thing', {});
    const [d] = await waitFor('dead', async () => {
      const list = await delivery(tenant.id, event.id);
      return list[0]?.status === 'dead' && list;
    });
    expect(d.lastError).toBe('timeout');
    const [attempt] = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${d.id}/attempts`)).body.data;
    expect(attempt).toMatchObject({ error: 'timeout', statusCode: null });
    // Ended by its deadline (the receiver never answers), not before it; how late a busy machine fires
    // the timer is not the sender's doing.
    expect(attempt.durationMs).toBeGreaterThanOrEqual(480);
  });

  it('disables the endpoint on 410 Gone and dead-letters the delivery', async () => {
    receiver.always({ status: 410 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url });
    const event = await publish(api(), tenant.id, 'a.b', {});
    await waitFor('dead', async () => (await delivery(tenant.id, event.id))[0]?.status === 'dead');
    expect(receiver.received).toHaveLength(1);
    const ep = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body;
    expect(ep).toMatchObject({ disabled: true, disabledReason: 'gone' });
    // A disabled endpoint gets no new deliveries.
    expect((await publish(api(), tenant.id, 'a.b', {})).deliveryCount).toBe(0);
  });

  it('counts a 302 as a failure and does not follow it', async () => {
    receiver.replyWith([{ status: 302, headers: { location: `${receiver.url}/elsewhere` } }], { status: 200 });
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: `${receiver.url}/hook`, retryPolicy: { ...FAST_RETRY, initialDelayMs: 200 } });
    const event = await publish(api(), tenant.id, 'a.b', {});
    const [d] = await waitFor('succeeded on the retry', async () => {
      const list = await delivery(tenant.id, event.id);
      return list[0]?.status === 'succeeded' && list;
    });
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook', '/hook']);
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts[0]).toMatchObject({ statusCode: 302, error: null });
    expect(attempts[0].responseHeaders.location).toContain('/elsewhere');
  });

  it('honours Retry-After on 429', async () => {
    receiver.replyWith([{ status: 429, headers: { 'retry-after': '2' } }], { status: 200 });
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: { ...FAST_RETRY, initialDelayMs: 100 } });
    await publish(api(), tenant.id, 'a.b', {});
    await waitFor('the retry', () => receiver.received.length >= 2, 10_000);
    expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(1900);
  });

  it('sends both signatures during a secret rotation, each valid for its secret', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url });
    const rotated = await api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).not.toBe(endpoint.secret);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret`)).body).toMatchObject({ secret: newSecret, previousSecretSignsUntil: expect.any(String) });

    await publish(api(), tenant.id, 'a.b', { rotated: true });
    await waitFor('receipt', () => receiver.received.length === 1);
    const request = receiver.received[0];
    const signatures = String(request.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const [secret, signature] of [[newSecret, signatures[0]], [endpoint.secret, signatures[1]]]) {
      const headers = { ...request.headers, 'webhook-signature': signature } as unknown as Record<string, string>;
      expect(new Webhook(secret).verify(request.body, headers)).toEqual({ rotated: true });
    }
  });

  it('adds the endpoint headers to the request', async () => {
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, headers: { 'x-team': 'billing' } });
    await publish(api(), tenant.id, 'a.b', {});
    await waitFor('receipt', () => receiver.received.length === 1);
    expect(receiver.received[0].headers['x-team']).toBe('billing');
  });

  it('recovers failed and dead deliveries of an endpoint in a time window', async () => {
    receiver.always({ status: 500 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
    const since = new Date(Date.now() - 1000).toISOString();
    await publish(api(), tenant.id, 'a.b', { i: 1 });
    await publish(api(), tenant.id, 'a.b', { i: 2 });
    await waitFor('two dead', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=dead`)).body.data.length === 2);

    receiver.always({ status: 200 });
    const res = await api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/recover`, { since });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ count: 2, id: expect.stringMatching(/^rpl_/) });
    await waitFor('both succeeded', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=succeeded`)).body.data.length === 2);
    expect((await api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/recover`, { since })).body).toEqual({ count: 0, id: expect.stringMatching(/^rpl_/) });
    expect((await api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/recover`, { since: 'yesterday' })).status).toBe(400);
  });

  it('dead-letters pending deliveries when their endpoint is deleted', async () => {
    receiver.always({ status: 500 });
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, retryPolicy: { ...FAST_RETRY, initialDelayMs: 60_000, maxDelayMs: 120_000 } });
    const event = await publish(api(), tenant.id, 'a.b', {});
    await waitFor('first attempt', () => receiver.received.length === 1);
    expect((await api().delete(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).status).toBe(204);
    const [d] = await delivery(tenant.id, event.id);
    expect(d).toMatchObject({ status: 'dead', lastError: 'endpoint deleted' });
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).status).toBe(404);
  });
});
