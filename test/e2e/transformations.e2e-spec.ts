import { Webhook } from 'standardwebhooks';
import { FAST_RETRY, createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

describe('transformations', () => {
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
  const slack = '{"text": "Invoice " & payload.id & " paid: " & $string(payload.amount / 100) & " " & payload.currency, "kind": eventType}';
  const deliveriesOf = async (tenantId: string, eventId: string) => (await api().get(`/v1/tenants/${tenantId}/deliveries?eventId=${eventId}`)).body.data;

  it('sends the transformed body, signed over exactly those bytes; other endpoints get the payload as published', async () => {
    const tenant = await createTenant(api());
    const shaped = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/shaped`, transformation: slack });
    await createEndpoint(api(), tenant.id, { url: `${receiver.url}/raw` });
    const payload = { id: 'inv_7', amount: 4250, currency: 'EUR' };
    const event = await publish(api(), tenant.id, 'invoice.paid', payload);

    await waitFor('both requests', () => receiver.received.length >= 2);
    const request = receiver.forPath('/shaped')[0];
    expect(JSON.parse(request.body)).toEqual({ text: 'Invoice inv_7 paid: 42.5 EUR', kind: 'invoice.paid' });
    expect(request.headers['webhook-id']).toBe(event.id);
    expect(new Webhook(shaped.secret).verify(request.body, request.headers as Record<string, string>)).toEqual({ text: 'Invoice inv_7 paid: 42.5 EUR', kind: 'invoice.paid' });
    expect(receiver.forPath('/raw')[0].body).toBe(JSON.stringify(payload));
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${shaped.id}`)).body.transformation).toBe(slack);
  });

  it('a failing transformation fails the attempt without sending, is retried, and once fixed a resend delivers', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, transformation: '$error("no customer on " & eventType)', retryPolicy: { ...FAST_RETRY, maxAttempts: 2 } });
    const event = await publish(api(), tenant.id, 'invoice.paid', { id: 'inv_8' });

    const [dead] = await waitFor('dead after two failed attempts', async () => {
      const list = await deliveriesOf(tenant.id, event.id);
      return list[0]?.status === 'dead' && list;
    });
    expect(receiver.received).toHaveLength(0);
    expect(dead).toMatchObject({ attemptCount: 2, lastStatusCode: null, lastError: 'transformation_failed: no customer on invoice.paid' });
    const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${dead.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.attemptNumber, a.trigger, a.statusCode, a.error])).toEqual([
      [1, 'initial', null, 'transformation_failed: no customer on invoice.paid'],
      [2, 'retry', null, 'transformation_failed: no customer on invoice.paid'],
    ]);

    expect((await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { transformation: '{"invoice": payload.id}' })).status).toBe(200);
    expect((await api().post(`/v1/tenants/${tenant.id}/deliveries/${dead.id}/resend`)).status).toBe(202);
    await waitFor('succeeded after the fix', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries/${dead.id}`)).body.status === 'succeeded');
    expect(receiver.received.map((r) => r.body)).toEqual(['{"invoice":"inv_8"}']);
  });

  it('an expression that runs past the time limit fails the attempt with transformation_failed', async () => {
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: receiver.url, transformation: '($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))', retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
    const event = await publish(api(), tenant.id, 'a.b', {});
    const [dead] = await waitFor('dead', async () => {
      const list = await deliveriesOf(tenant.id, event.id);
      return list[0]?.status === 'dead' && list;
    });
    expect(dead.lastError).toBe('transformation_failed: evaluation exceeded 50 ms');
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses an expression that does not compile, naming the field, and changes nothing', async () => {
    const tenant = await createTenant(api());
    const bad = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, transformation: '{"a": payload.' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('transformation');
    expect(bad.body.details[0].message).toMatch(/^transformation: .+/);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints`)).body.data).toHaveLength(0);
    expect((await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, transformation: 42 })).status).toBe(400);
  });

  it('POST …/transformation/test answers the result or the error, for the saved expression or one to try', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, transformation: slack });
    const path = `/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/transformation/test`;
    const sample = { eventType: 'invoice.paid', payload: { id: 'inv_9', amount: 100, currency: 'USD' } };

    expect((await api().post(path, sample)).body).toEqual({ ok: true, result: { text: 'Invoice inv_9 paid: 1 USD', kind: 'invoice.paid' } });
    expect((await api().post(path, { ...sample, transformation: 'payload.amount * 2' })).body).toEqual({ ok: true, result: 200 });
    const failing = await api().post(path, { ...sample, transformation: 'payload.nothing' });
    expect(failing.status).toBe(200);
    expect(failing.body).toEqual({ ok: false, error: 'the expression produced no value' });
    expect((await api().post(path, { ...sample, transformation: '(' })).status).toBe(400);

    const plain = await createEndpoint(api(), tenant.id, { url: receiver.url });
    expect((await api().post(`/v1/tenants/${tenant.id}/endpoints/${plain.id}/transformation/test`, sample)).body).toEqual({ ok: true, result: sample.payload });
  });
});
