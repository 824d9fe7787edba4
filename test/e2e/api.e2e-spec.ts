import { createEndpoint, createTenant, createTenantKey, publish } from '../support/fixtures';
import { ADMIN_KEY, Herald, startHerald } from '../support/herald';

describe('REST API', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald.close();
  });
  const api = () => herald.api;
  const count = async (table: string) => Number((await herald.sql(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const expectError = (res: { status: number; body: any }, status: number, field?: string) => {
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String) });
    if (field) expect(res.body.details.map((d: any) => d.field)).toContain(field);
  };

  describe('authentication', () => {
    it('answers 401 without a key or with a wrong one', async () => {
      expectError(await api().as(null).get('/v1/tenants'), 401);
      expectError(await api().as('nope').get('/v1/tenants'), 401);
      expectError(await api().as(ADMIN_KEY + 'x').get('/v1/tenants'), 401);
    });

    it('lets a tenant key act only under its own tenant; others look missing; admin routes are 403', async () => {
      const mine = await createTenant(api(), { uid: `mine-${Date.now()}` });
      const other = await createTenant(api());
      const key = await createTenantKey(api(), mine.id);
      expect(key).toMatch(/^hk_/);
      const tenantApi = api().as(key);
      expect((await tenantApi.get(`/v1/tenants/${mine.id}`)).status).toBe(200);
      expect((await tenantApi.get(`/v1/tenants/${mine.uid}`)).body.id).toBe(mine.id);
      const otherEndpoint = await createEndpoint(api(), other.id, { url: 'https://example.com/hook' });
      const otherEvent = await publish(api(), other.id, 'x.y', {});
      for (const path of [`/v1/tenants/${other.id}`, `/v1/tenants/${other.id}/endpoints`, `/v1/tenants/${other.id}/endpoints/${otherEndpoint.id}`, `/v1/tenants/${other.id}/events/${otherEvent.id}`]) {
        const res = await tenantApi.get(path);
        expectError(res, 404);
        expect(JSON.stringify(res.body)).not.toContain(otherEndpoint.id);
      }
      // Another tenant's endpoint through my own path is also just missing.
      expectError(await tenantApi.get(`/v1/tenants/${mine.id}/endpoints/${otherEndpoint.id}`), 404);
      expectError(await tenantApi.patch(`/v1/tenants/${other.id}/endpoints/${otherEndpoint.id}`, { description: 'x' }), 404);
      expectError(await tenantApi.delete(`/v1/tenants/${other.id}`), 404);
      expectError(await tenantApi.get('/v1/tenants'), 403);
      expectError(await tenantApi.post('/v1/tenants', { name: 'x' }), 403);
      expectError(await tenantApi.post(`/v1/tenants/${mine.id}/api-keys`), 403);
      expect((await api().get(`/v1/tenants/${other.id}/endpoints/${otherEndpoint.id}`)).body.description).toBe('');
      const [row] = await herald.sql('SELECT key_hash FROM api_keys WHERE tenant_id = $1', [mine.id]);
      expect(row.key_hash).not.toContain(key);
      expect(row.key_hash).toHaveLength(64);
    });
  });

  describe('tenants', () => {
    it('creates, reads by id or uid, updates, lists and deletes', async () => {
      const uid = `acme-${Date.now()}`;
      const created = await api().post('/v1/tenants', { name: 'Acme', uid, metadata: { plan: 'pro' }, publishRateLimitPerSecond: 100 });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.stringMatching(/^tnt_[0-9A-Z]{26}$/), name: 'Acme', uid, metadata: { plan: 'pro' }, publishRateLimitPerSecond: 100 });
      expectError(await api().post('/v1/tenants', { name: 'Again', uid }), 409, 'uid');
      const patched = await api().patch(`/v1/tenants/${uid}`, { name: 'Acme Inc.', publishRateLimitPerSecond: null });
      expect(patched.body).toMatchObject({ name: 'Acme Inc.', publishRateLimitPerSecond: null, uid });
      const list = await api().get('/v1/tenants?limit=250');
      expect(list.body.data.map((t: any) => t.id)).toContain(created.body.id);
      expect((await api().delete(`/v1/tenants/${created.body.id}`)).status).toBe(204);
      expectError(await api().get(`/v1/tenants/${created.body.id}`), 404);
      expectError(await api().get(`/v1/tenants/${uid}`), 404);
    });

    it('refuses bad tenant input and writes nothing', async () => {
      const before = await count('tenants');
      expectError(await api().post('/v1/tenants', {}), 400, 'name');
      expectError(await api().post('/v1/tenants', { name: '' }), 400, 'name');
      expectError(await api().post('/v1/tenants', { name: 'x', uid: 'has space' }), 400, 'uid');
      expectError(await api().post('/v1/tenants', { name: 'x', metadata: [1] }), 400, 'metadata');
      expectError(await api().post('/v1/tenants', { name: 'x', publishRateLimitPerSecond: 0 }), 400, 'publishRateLimitPerSecond');
      expectError(await api().post('/v1/tenants', { name: 'x', extra: true }), 400, 'extra');
      expect(await count('tenants')).toBe(before);
    });
  });

  describe('endpoints', () => {
    it('stores and returns every field, never the secret after creation', async () => {
      const tenant = await createTenant(api());
      const body = {
        url: 'https://example.com/hooks',
        description: 'billing',
        eventTypes: ['invoice.*', 'user.created'],
        rateLimitPerSecond: 5,
        maxInFlight: 2,
        timeoutMs: 3000,
        retryPolicy: { maxAttempts: 4 },
        headers: { 'x-team': 'billing' },
        metadata: { owner: 'ann' },
      };
      const created = await api().post(`/v1/tenants/${tenant.id}/endpoints`, body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...body, disabled: false, disabledReason: null, retryPolicy: { maxAttempts: 4, initialDelayMs: 5000, maxDelayMs: 36_000_000, multiplier: 5 } });
      expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const got = await api().get(`/v1/tenants/${tenant.id}/endpoints/${created.body.id}`);
      expect(got.body.secret).toBeUndefined();
      const list = await api().get(`/v1/tenants/${tenant.id}/endpoints`);
      expect(list.body.data).toHaveLength(1);
      expect(list.body.data[0].secret).toBeUndefined();
      const patched = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${created.body.id}`, { disabled: true, rateLimitPerSecond: null });
      expect(patched.body).toMatchObject({ disabled: true, disabledReason: 'manual', rateLimitPerSecond: null, maxInFlight: 2 });
      const [row] = await herald.sql('SELECT secret_sealed FROM endpoints WHERE id = $1', [created.body.id]);
      expect(row.secret_sealed).not.toContain(created.body.secret.slice(6));
    });

    it('accepts a given secret and refuses a malformed one', async () => {
      const tenant = await createTenant(api());
      const secret = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
      const created = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: 'https://example.com', secret });
      expect(created.body.secret).toBe(secret);
      expectError(await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: 'https://example.com', secret: 'whsec_short' }), 400, 'secret');
    });

    it('refuses bad endpoint input of every kind and writes nothing', async () => {
      const tenant = await createTenant(api());
      const before = await count('endpoints');
      const bad: [Record<string, unknown>, string][] = [
        [{}, 'url'],
        [{ url: 'ftp://example.com' }, 'url'],
        [{ url: 'not a url' }, 'url'],
        [{ url: 'https://user:pass@example.com' }, 'url'],
        [{ url: 'https://example.com/' + 'a'.repeat(3000) }, 'url'],
        [{ url: 'https://example.com', eventTypes: ['bad type'] }, 'eventTypes'],
        [{ url: 'https://example.com', eventTypes: 'invoice.paid' }, 'eventTypes'],
        [{ url: 'https://example.com', timeoutMs: 50 }, 'timeoutMs'],
        [{ url: 'https://example.com', timeoutMs: 60001 }, 'timeoutMs'],
        [{ url: 'https://example.com', rateLimitPerSecond: 0 }, 'rateLimitPerSecond'],
        [{ url: 'https://example.com', maxInFlight: -1 }, 'maxInFlight'],
        [{ url: 'https://example.com', retryPolicy: { maxAttempts: 0 } }, 'retryPolicy.maxAttempts'],
        [{ url: 'https://example.com', retryPolicy: { initialDelayMs: 5000, maxDelayMs: 10 } }, 'retryPolicy.maxDelayMs'],
        [{ url: 'https://example.com', headers: { 'webhook-signature': 'x' } }, 'headers'],
        [{ url: 'https://example.com', headers: { 'x-a': 1 } }, 'headers'],
        [{ url: 'https://example.com', metadata: 'x' }, 'metadata'],
        [{ url: 'https://example.com', disabled: 'yes' }, 'disabled'],
        [{ url: 'https://example.com', unknown: 1 }, 'unknown'],
      ];
      for (const [body, field] of bad) expectError(await api().post(`/v1/tenants/${tenant.id}/endpoints`, body), 400, field);
      expect(await count('endpoints')).toBe(before);
      expectError(await api().get(`/v1/tenants/${tenant.id}/endpoints/ep_nope`), 404);
    });
  });

  describe('events', () => {
    it('refuses bad events with the field named, and oversized payloads with 413, writing nothing', async () => {
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: 'https://example.com' });
      const [events, deliveries] = [await count('events'), await count('deliveries')];
      const path = `/v1/tenants/${tenant.id}/events`;
      expectError(await api().post(path, { payload: {} }), 400, 'eventType');
      expectError(await api().post(path, { eventType: 'a b', payload: {} }), 400, 'eventType');
      expectError(await api().post(path, { eventType: 'x'.repeat(129), payload: {} }), 400, 'eventType');
      expectError(await api().post(path, { eventType: 'a.b' }), 400, 'payload');
      expectError(await api().post(path, { eventType: 'a.b', payload: [1, 2] }), 400, 'payload');
      expectError(await api().post(path, { eventType: 'a.b', payload: 'text' }), 400, 'payload');
      expectError(await api().post(path, '{"eventType": "a.b", "payload": {'), 400);
      expectError(await api().post(path, { eventType: 'a.b', payload: { big: 'x'.repeat(300 * 1024) } }), 413, 'payload');
      expectError(await api().post(path, 'x'.repeat(20 * 1024 * 1024)), 413);
      expectError(await api().post(`${path}/batch`, { events: [] }), 400, 'events');
      expectError(await api().post(`${path}/batch`, { events: [{ eventType: 'ok', payload: {} }, { eventType: 'bad type', payload: {} }] }), 400, 'events.1.eventType');
      expectError(await api().post(`${path}/batch`, { events: Array.from({ length: 501 }, () => ({ eventType: 'a', payload: {} })) }), 400, 'events');
      expect([await count('events'), await count('deliveries')]).toEqual([events, deliveries]);
    });

    it('answers the first event again for a repeated idempotency key, from the body or the header', async () => {
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: 'https://example.com' });
      const first = await publish(api(), tenant.id, 'order.paid', { n: 1 }, { idempotencyKey: 'order-1' });
      const again = await publish(api(), tenant.id, 'order.paid', { n: 2 }, { idempotencyKey: 'order-1' });
      expect(again).toEqual(first);
      const viaHeader = await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'order.paid', payload: {} }, { 'idempotency-key': 'order-2' });
      const viaHeaderAgain = await api().post(`/v1/tenants/${tenant.id}/events`, { eventType: 'order.paid', payload: {} }, { 'idempotency-key': 'order-2' });
      expect(viaHeaderAgain.body).toEqual(viaHeader.body);
      // Concurrent repeats share one event too.
      const burst = await Promise.all(Array.from({ length: 10 }, () => publish(api(), tenant.id, 'order.paid', {}, { idempotencyKey: 'order-3' })));
      expect(new Set(burst.map((e) => e.id)).size).toBe(1);
      const [{ n: eventCount }] = await herald.sql('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [tenant.id]);
      const [{ n: deliveryCount }] = await herald.sql('SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1', [tenant.id]);
      expect([eventCount, deliveryCount]).toEqual([3, 3]);
      // The same key in another tenant is another event.
      const other = await createTenant(api());
      expect((await publish(api(), other.id, 'order.paid', {}, { idempotencyKey: 'order-1' })).id).not.toBe(first.id);
    });

    it('publishes a batch in order, one delivery per matching endpoint', async () => {
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: 'https://example.com/a', eventTypes: ['a.*'] });
      await createEndpoint(api(), tenant.id, { url: 'https://example.com/b' });
      const res = await api().post(`/v1/tenants/${tenant.id}/events/batch`, {
        events: [
          { eventType: 'a.one', payload: { i: 0 } },
          { eventType: 'b.two', payload: { i: 1 } },
          { eventType: 'a.three', payload: { i: 2 }, idempotencyKey: 'k' },
          { eventType: 'a.three', payload: { i: 3 }, idempotencyKey: 'k' },
        ],
      });
      expect(res.status).toBe(202);
      expect(res.body.data.map((e: any) => [e.eventType, e.deliveryCount])).toEqual([
        ['a.one', 2],
        ['b.two', 1],
        ['a.three', 2],
        ['a.three', 2],
      ]);
      expect(res.body.data[3].id).toBe(res.body.data[2].id);
      const event = await api().get(`/v1/tenants/${tenant.id}/events/${res.body.data[1].id}`);
      expect(event.body).toMatchObject({ id: res.body.data[1].id, eventType: 'b.two', payload: { i: 1 } });
    });

    it('lists newest first with stable cursors under concurrent inserts, and filters', async () => {
      const tenant = await createTenant(api());
      const published = [];
      for (let i = 0; i < 7; i++) published.push(await publish(api(), tenant.id, i % 2 ? 'odd' : 'even', { i }));
      const page1 = await api().get(`/v1/tenants/${tenant.id}/events?limit=3`);
      expect(page1.body.data.map((e: any) => e.id)).toEqual(published.slice(4).reverse().map((e) => e.id));
      await publish(api(), tenant.id, 'even', { i: 99 });
      const page2 = await api().get(`/v1/tenants/${tenant.id}/events?limit=3&cursor=${page1.body.nextCursor}`);
      expect(page2.body.data.map((e: any) => e.id)).toEqual(published.slice(1, 4).reverse().map((e) => e.id));
      const page3 = await api().get(`/v1/tenants/${tenant.id}/events?limit=3&cursor=${page2.body.nextCursor}`);
      expect(page3.body).toEqual({ data: [expect.objectContaining({ id: published[0].id })], nextCursor: null });
      expect((await api().get(`/v1/tenants/${tenant.id}/events?eventType=odd`)).body.data).toHaveLength(3);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await api().get(`/v1/tenants/${tenant.id}/events?since=${future}`)).body.data).toHaveLength(0);
      expect((await api().get(`/v1/tenants/${tenant.id}/events?until=${future}`)).body.data).toHaveLength(8);
      expectError(await api().get(`/v1/tenants/${tenant.id}/events?cursor=garbage`), 400, 'cursor');
      expectError(await api().get(`/v1/tenants/${tenant.id}/events?limit=0`), 400, 'limit');
      expectError(await api().get(`/v1/tenants/${tenant.id}/events?limit=251`), 400, 'limit');
      expectError(await api().get(`/v1/tenants/${tenant.id}/events?since=yesterday`), 400, 'since');
      expectError(await api().get(`/v1/tenants/${tenant.id}/deliveries?status=lost`), 400, 'status');
      expectError(await api().get(`/v1/tenants/${tenant.id}/events/evt_nope`), 404);
    });
  });

  describe('operations', () => {
    it('serves health, metrics and the OpenAPI document without a key', async () => {
      expect((await api().as(null).get('/health/live')).body).toEqual({ status: 'ok' });
      expect((await api().as(null).get('/health/ready')).body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
      const metrics = await api().as(null).get('/metrics');
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      for (const name of ['herald_events_published_total', 'herald_delivery_attempts_total', 'herald_attempt_duration_seconds', 'herald_queue_depth']) expect(metrics.body).toContain(name);
      expect(metrics.body).toMatch(/herald_queue_depth\{shard="0",lane="live",state="waiting"\} \d+/);
      expect(metrics.body).toMatch(/herald_queue_depth\{shard="0",lane="bulk",state="waiting"\} \d+/);
      const doc = await api().as(null).get('/docs/json');
      expect(doc.body.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/tenants', '/v1/tenants/{tenantId}/events', '/v1/tenants/{tenantId}/deliveries/{deliveryId}/resend']));
      expect(doc.body.components.schemas.CreateEndpointDto.properties.url).toBeDefined();
      const ui = await fetch(`${herald.url}/docs`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('swagger');
    });
  });
});
