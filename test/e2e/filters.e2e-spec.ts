import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

describe('payload filters', () => {
  let herald: Herald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    herald = await startHerald();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await herald.close();
  });

  const api = () => herald.api;
  const bigInvoices = { data: { amount: { $gte: 1000 } }, $eventType: { $startsWith: 'invoice.' } };

  it('fans an event out only to the endpoints whose filter holds', async () => {
    const tenant = await createTenant(api());
    const filtered = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/big`, filter: bigInvoices });
    await createEndpoint(api(), tenant.id, { url: `${receiver.url}/all` });

    const small = await publish(api(), tenant.id, 'invoice.paid', { data: { amount: 10 } });
    const big = await publish(api(), tenant.id, 'invoice.paid', { data: { amount: 5000 } });
    const other = await publish(api(), tenant.id, 'user.created', { data: { amount: 5000 } });
    expect([small.deliveryCount, big.deliveryCount, other.deliveryCount]).toEqual([1, 2, 1]);

    await waitFor('four requests', () => receiver.received.length >= 4);
    expect(receiver.forPath('/big').map((r) => r.headers['webhook-id'])).toEqual([big.id]);
    const deliveries = (await api().get(`/v1/tenants/${tenant.id}/deliveries?endpointId=${filtered.id}`)).body.data;
    expect(deliveries.map((d: any) => d.eventId)).toEqual([big.id]);

    const view = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${filtered.id}`)).body;
    expect(view.filter).toEqual(bigInvoices);
  });

  it('applies a changed filter to the next events, and null removes it', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/changing`, filter: { region: 'eu' } });
    expect((await publish(api(), tenant.id, 'order.created', { region: 'us' })).deliveryCount).toBe(0);

    expect((await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { filter: { region: { $in: ['us', 'ca'] } } })).status).toBe(200);
    expect((await publish(api(), tenant.id, 'order.created', { region: 'us' })).deliveryCount).toBe(1);
    expect((await publish(api(), tenant.id, 'order.created', { region: 'eu' })).deliveryCount).toBe(0);

    const cleared = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { filter: null });
    expect(cleared.body.filter).toBeNull();
    expect((await publish(api(), tenant.id, 'order.created', { region: 'eu' })).deliveryCount).toBe(1);
  });

  it('refuses an invalid filter with 400 naming the operator and its path, and changes nothing', async () => {
    const tenant = await createTenant(api());
    const bad = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, filter: { data: { amount: { $between: [1, 2] } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ field: 'filter', message: 'filter.data.amount.$between: unknown operator $between' }]);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints`)).body.data).toHaveLength(0);

    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, filter: { a: 1 } });
    const badPatch = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { filter: { $or: 'x' } });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.message).toContain('filter.$or: $or takes a non-empty array');
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body.filter).toEqual({ a: 1 });

    const tooDeep = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, filter: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.message).toContain('nests at most 8 levels');
  });

  it('POST …/filter/test answers whether a sample matches and which clause fails', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, filter: bigInvoices });
    const path = `/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/filter/test`;

    expect((await api().post(path, { eventType: 'invoice.paid', payload: { data: { amount: 1000 } } })).body).toEqual({ matches: true, reason: null });
    const miss = await api().post(path, { eventType: 'invoice.paid', payload: { data: { amount: 999 } } });
    expect(miss.status).toBe(200);
    expect(miss.body).toEqual({ matches: false, reason: 'data.amount: 999 does not satisfy $gte 1000' });
    expect((await api().post(path, { eventType: 'user.created', payload: { data: { amount: 1000 } } })).body).toEqual({
      matches: false,
      reason: 'eventType: "user.created" does not satisfy $startsWith "invoice."',
    });
    const invalid = await api().post(path, { eventType: 'a b', payload: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.map((d: any) => d.field).sort()).toEqual(['eventType', 'payload']);
    expect((await api().post(`/v1/tenants/${tenant.id}/endpoints/ep_nope/filter/test`, { eventType: 'a', payload: {} })).status).toBe(404);
  });
});
