import { createEndpoint, createTenant, createTenantKey, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

describe('event-type catalog', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  beforeAll(async () => {
    [herald, receiver] = await Promise.all([startHerald(), TestReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([herald.close(), receiver.close()]);
  });
  const api = () => herald.api;
  const eventCount = async (tenantId: string) => Number((await herald.sql('SELECT count(*) AS n FROM events WHERE tenant_id = $1', [tenantId]))[0].n);
  const invoiceSchema = {
    type: 'object',
    required: ['id', 'amount'],
    properties: { id: { type: 'string' }, amount: { type: 'integer', minimum: 0 } },
  };

  it('creates, reads, lists, updates and deletes types; tenants may read but not write', async () => {
    const created = await api().post('/v1/event-types', { name: 'catalog.created', description: 'a thing happened', schema: invoiceSchema, example: { id: 'in_1', amount: 3 } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'catalog.created',
      description: 'a thing happened',
      schema: invoiceSchema,
      example: { id: 'in_1', amount: 3 },
      deprecated: false,
      archived: false,
      validate: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await api().post('/v1/event-types', { name: 'catalog.created' })).status).toBe(409);

    const tenant = await createTenant(api());
    const tenantApi = api().as(await createTenantKey(api(), tenant.id));
    expect((await tenantApi.get('/v1/event-types/catalog.created')).body.name).toBe('catalog.created');
    expect((await tenantApi.get('/v1/event-types')).body.data.map((t: { name: string }) => t.name)).toContain('catalog.created');
    expect((await tenantApi.post('/v1/event-types', { name: 'catalog.mine' })).status).toBe(403);
    expect((await tenantApi.patch('/v1/event-types/catalog.created', { description: 'x' })).status).toBe(403);
    expect((await tenantApi.delete('/v1/event-types/catalog.created')).status).toBe(403);

    const archived = await api().patch('/v1/event-types/catalog.created', { archived: true, deprecated: true });
    expect(archived.body).toMatchObject({ archived: true, deprecated: true, description: 'a thing happened' });
    expect((await api().get('/v1/event-types')).body.data.map((t: { name: string }) => t.name)).not.toContain('catalog.created');
    expect((await api().get('/v1/event-types?includeArchived=true')).body.data.map((t: { name: string }) => t.name)).toContain('catalog.created');

    expect((await api().delete('/v1/event-types/catalog.created')).status).toBe(204);
    expect((await api().get('/v1/event-types/catalog.created')).status).toBe(404);
  });

  it('pages through the catalog by name', async () => {
    for (const n of ['page.a', 'page.b', 'page.c']) expect((await api().post('/v1/event-types', { name: n })).status).toBe(201);
    const names: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: { body: { data: { name: string }[]; nextCursor: string | null } } = await api().get(`/v1/event-types?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      names.push(...res.body.data.map((t) => t.name));
      cursor = res.body.nextCursor;
    }
    expect(names.filter((n) => n.startsWith('page.'))).toEqual(['page.a', 'page.b', 'page.c']);
  });

  it('refuses a schema that does not compile and an example that does not follow it, naming the field', async () => {
    const bad = await api().post('/v1/event-types', { name: 'catalog.bad', schema: { type: 'nonsense' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('schema');
    const wrongExample = await api().post('/v1/event-types', { name: 'catalog.bad', schema: invoiceSchema, example: { id: 1 } });
    expect(wrongExample.status).toBe(400);
    expect(wrongExample.body.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'example', pointer: '/id' }), expect.objectContaining({ field: 'example', pointer: '/amount' })]),
    );
    expect((await api().get('/v1/event-types/catalog.bad')).status).toBe(404);
  });

  it('validates payloads of a type with validate: true (422 with JSON pointers, nothing written); other types stay open', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/strict` });
    expect((await api().post('/v1/event-types', { name: 'strict.paid', schema: invoiceSchema, validate: true })).status).toBe(201);
    expect((await api().post('/v1/event-types', { name: 'loose.paid', schema: invoiceSchema })).status).toBe(201);

    const refused = await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'strict.paid', payload: { id: 7, amount: -1 } });
    expect(refused.status).toBe(422);
    expect(refused.body.details).toEqual(
      expect.arrayContaining([
        { field: 'payload', pointer: '/id', message: 'payload/id must be string' },
        { field: 'payload', pointer: '/amount', message: 'payload/amount must be >= 0' },
      ]),
    );
    const batch = await api().post(`/v1/tenants/${tenant.id}/events/batch`, {
      events: [
        { eventType: 'strict.paid', payload: { id: 'a', amount: 1 } },
        { eventType: 'strict.paid', payload: { id: 'b' } },
      ],
    });
    expect(batch.status).toBe(422);
    expect(batch.body.details).toEqual([{ field: 'events.1.payload', pointer: '/amount', message: 'events.1.payload/amount is required' }]);
    expect(await eventCount(tenant.id)).toBe(0);

    await publish(api(), tenant.id, 'loose.paid', { anything: true });
    await publish(api(), tenant.id, 'not.in.catalog', { anything: true });
    const ok = await publish(api(), tenant.id, 'strict.paid', { id: 'in_1', amount: 5 });
    await waitFor('the valid event delivered', () => receiver.forPath('/strict').some((r) => r.headers['webhook-id'] === ok.id));
    expect(await eventCount(tenant.id)).toBe(3);
    expect(endpoint.id).toMatch(/^ep_/);

    // A new schema applies at once (validators are cached per schema version).
    await api().patch('/v1/event-types/strict.paid', { schema: { type: 'object', required: ['customer'] } });
    expect((await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'strict.paid', payload: { id: 'in_1', amount: 5 } })).status).toBe(422);
    expect((await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'strict.paid', payload: { customer: 'c' } })).status).toBe(202);
  });

  it('with HERALD_VALIDATE_EVENTS=true validates every type that has a schema', async () => {
    const strictHerald = await startHerald({ HERALD_VALIDATE_EVENTS: 'true' }, herald);
    try {
      expect((await api().post('/v1/event-types', { name: 'global.paid', schema: invoiceSchema })).status).toBe(201);
      const tenant = await createTenant(strictHerald.api);
      const refused = await strictHerald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'global.paid', payload: { id: 'x' } });
      expect(refused.status).toBe(422);
      expect(refused.body.details).toEqual([{ field: 'payload', pointer: '/amount', message: 'payload/amount is required' }]);
      expect(await eventCount(tenant.id)).toBe(0);
      // The same payload is accepted by the installation that validates only types marked validate: true.
      expect((await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'global.paid', payload: { id: 'x' } })).status).toBe(202);
    } finally {
      await strictHerald.close();
    }
  });
});
