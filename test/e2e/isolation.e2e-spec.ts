import fc from 'fast-check';
import { createEndpoint, createTenant, createTenantKey, publish } from '../support/fixtures';
import { ApiClient, Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

interface World {
  id: string;
  uid: string;
  key: string;
  keyId: string;
  endpointId: string;
  secret: string;
  eventId: string;
  deliveryId: string;
  attemptId: string;
}

/** An id of the same kind and shape that names nothing. */
const fakeId = (id: string) => (/^[a-z]+_[0-9A-Z]{26}$/.test(id) ? `${id.slice(0, -10)}ZZZZZZZZZZ` : `${id}-missing`);

/**
 * Tenant isolation, as a property: with tenant A's key, any tenant route aimed at tenant B (by id or uid),
 * or at B's endpoints, events, deliveries and attempts under A's own path, answers 404 (or 403 for the
 * admin-only routes) and leaks nothing of B; and B is unchanged afterwards.
 */
describe('tenant isolation', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let a: World;
  let b: World;

  async function makeTenant(name: string): Promise<World> {
    const admin = herald.api;
    const tenant = await createTenant(admin, { uid: `${name}-${Date.now()}` });
    const key = await createTenantKey(admin, tenant.id);
    const keyId = (await herald.sql(`SELECT id FROM api_keys WHERE tenant_id = $1`, [tenant.id]))[0].id;
    const endpoint = await createEndpoint(admin, tenant.id, { url: `${receiver.url}/${name}` });
    const event = await publish(admin, tenant.id, 'iso.test', { owner: name });
    const [delivery] = await waitFor('a succeeded delivery', async () => {
      const list = (await admin.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data;
      return list[0]?.status === 'succeeded' && list;
    });
    const [attempt] = (await admin.get(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/attempts`)).body.data;
    return { id: tenant.id, uid: tenant.uid!, key, keyId, endpointId: endpoint.id, secret: endpoint.secret, eventId: event.id, deliveryId: delivery.id, attemptId: attempt.id };
  }

  beforeAll(async () => {
    herald = await startHerald();
    receiver = await TestReceiver.start();
    a = await makeTenant('alpha');
    b = await makeTenant('bravo');
  });
  afterAll(async () => {
    await receiver.close();
    await herald.close();
  });

  const snapshot = async (w: World) => ({
    tenant: await herald.sql(`SELECT * FROM tenants WHERE id = $1`, [w.id]),
    endpoints: await herald.sql(`SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY id`, [w.id]),
    keys: await herald.sql(`SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY id`, [w.id]),
    events: await herald.sql(`SELECT id FROM events WHERE tenant_id = $1 ORDER BY id`, [w.id]),
    deliveries: await herald.sql(`SELECT * FROM deliveries WHERE tenant_id = $1 ORDER BY id`, [w.id]),
    attempts: await herald.sql(`SELECT a.id FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1 ORDER BY a.id`, [w.id]),
  });

  /** `filter`: B's id is a list filter; under A's own path that is a valid query that must find nothing. */
  type Route = { method: string; path: (t: string, ids: Ids) => string; body?: unknown; adminOnly?: boolean; filter?: boolean };
  type Ids = { endpointId: string; eventId: string; deliveryId: string; sourceId: string };

  const routes: Route[] = [
    { method: 'GET', path: (t) => `/v1/tenants/${t}` },
    { method: 'PATCH', path: (t) => `/v1/tenants/${t}`, body: { name: 'taken over' } },
    { method: 'DELETE', path: (t) => `/v1/tenants/${t}` },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/api-keys`, adminOnly: true },
    { method: 'POST', path: () => `/v1/tenants`, body: { name: 'x' }, adminOnly: true },
    { method: 'GET', path: () => `/v1/tenants`, adminOnly: true },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/endpoints`, body: { url: 'https://example.com/hook' } },
    { method: 'GET', path: (t) => `/v1/tenants/${t}/endpoints` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}` },
    { method: 'PATCH', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}`, body: { url: 'https://attacker.example/steal' } },
    { method: 'DELETE', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/secret` },
    { method: 'POST', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/secret/rotate` },
    { method: 'POST', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/recover`, body: { since: '2000-01-01T00:00:00Z' } },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/stats` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/stats?window=24h&step=1h` },
    { method: 'POST', path: (t, i) => `/v1/tenants/${t}/endpoints/${i.endpointId}/send-example`, body: {} },
    { method: 'GET', path: (t) => `/v1/tenants/${t}/stats` },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/deliveries/resend`, body: { status: 'dead' } },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/portal-sessions`, body: {} },
    { method: 'GET', path: (t) => `/v1/tenants/${t}/portal-sessions` },
    { method: 'DELETE', path: (t) => `/v1/tenants/${t}/portal-sessions/ps_01JAAAAAAAAAAAAAAAAAAAAAAA` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries?eventType=iso.test&endpointId=${i.endpointId}`, filter: true },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/events`, body: { eventType: 'iso.test', payload: {} } },
    { method: 'POST', path: (t) => `/v1/tenants/${t}/events/batch`, body: { events: [{ eventType: 'iso.test', payload: {} }] } },
    { method: 'GET', path: (t) => `/v1/tenants/${t}/events` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/events/${i.eventId}` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries?eventId=${i.eventId}`, filter: true },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries?endpointId=${i.endpointId}`, filter: true },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries/${i.deliveryId}` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries/${i.deliveryId}/attempts` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/deliveries/${i.deliveryId}/attempts/att_01JAAAAAAAAAAAAAAAAAAAAAAA/request` },
    { method: 'POST', path: (t, i) => `/v1/tenants/${t}/deliveries/${i.deliveryId}/resend` },
    { method: 'GET', path: (t) => `/v1/tenants/${t}/sources` },
    { method: 'GET', path: (t, i) => `/v1/tenants/${t}/sources/${i.sourceId}` },
  ];

  it('answers 404 or 403 to every tenant route of B tried with A\'s key, leaks nothing of B, and changes nothing', async () => {
    const before = await snapshot(b);
    const attacker = herald.api.as(a.key);
    const secrets = [b.id, b.uid, b.keyId, b.endpointId, b.secret, b.secret.replace(/^whsec_/, ''), b.eventId, b.deliveryId, b.attemptId, b.key];
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        // Whose tenant path: B's id, B's uid, or A's own (then with B's resource ids).
        fc.constantFrom('b-id', 'b-uid', 'a-id'),
        fc.record({ endpoint: fc.boolean(), event: fc.boolean(), delivery: fc.boolean() }),
        async (route, whose, own) => {
          const tenantPath = whose === 'b-id' ? b.id : whose === 'b-uid' ? b.uid : a.id;
          const ids: Ids = {
            endpointId: whose !== 'a-id' && own.endpoint ? a.endpointId : b.endpointId,
            eventId: whose !== 'a-id' && own.event ? a.eventId : b.eventId,
            deliveryId: whose !== 'a-id' && own.delivery ? a.deliveryId : b.deliveryId,
            sourceId: 'src_01JAAAAAAAAAAAAAAAAAAAAAAA',
          };
          const path = route.path(tenantPath, ids);
          // Under A's own path, only routes naming one of B's resources are an attack.
          if (whose === 'a-id' && !route.adminOnly && ![b.endpointId, b.eventId, b.deliveryId].some((id) => path.includes(id))) return;
          requests++;
          const res = await attacker.request(route.method, path, route.body);
          if (whose === 'a-id' && route.filter) {
            expect({ route: `${route.method} ${path}`, status: res.status, body: res.body }).toEqual({ route: `${route.method} ${path}`, status: 200, body: { data: [], nextCursor: null } });
            return;
          }
          const expected = route.adminOnly ? 403 : 404;
          expect({ route: `${route.method} ${path}`, status: res.status }).toEqual({ route: `${route.method} ${path}`, status: expected });
          expect(res.body).toMatchObject({ statusCode: expected, error: expect.any(String), message: expect.any(String) });
          // Only the ids the request itself named may come back (as in "tenant <id> not found"), and the
          // answer must be the very one a tenant or resource that does not exist gets.
          // Every answer has its own request id; the rest must be the very same.
          const text = JSON.stringify({ ...res.body, requestId: undefined });
          for (const s of secrets) {
            if (text.includes(s) && !path.includes(s)) throw new Error(`${route.method} ${path} leaked ${s === b.secret ? 'the secret' : s}: ${text}`);
          }
          const named = [b.id, b.uid, b.endpointId, b.eventId, b.deliveryId, a.endpointId, a.eventId, a.deliveryId].filter((id) => path.includes(id));
          const fake = (text: string) => named.reduce((t, id) => t.split(id).join(fakeId(id)), text);
          const missing = await attacker.request(route.method, fake(path), route.body);
          expect({ status: res.status, body: fake(text) }).toEqual({ status: missing.status, body: JSON.stringify({ ...missing.body, requestId: undefined }) });
        },
      ),
      { numRuns: 400 },
    );
    expect(requests).toBeGreaterThan(100);
    expect(await snapshot(b)).toEqual(before);
    // B still works with its own key.
    const own = new ApiClient(herald.url, b.key);
    expect((await own.get(`/v1/tenants/${b.id}/endpoints/${b.endpointId}/secret`)).body).toEqual({ secret: b.secret, previousSecretSignsUntil: null });
  });

  it("answers 403 naming the field when a tenant key sets any of its tenant's admin-only fields, and changes nothing", async () => {
    const own = herald.api.as(a.key);
    const before = await snapshot(a);
    const adminOnly = {
      uid: fc.oneof(fc.constant(b.uid), fc.constant(null), fc.stringMatching(/^[a-z0-9-]{1,20}$/)),
      publishRateLimitPerSecond: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1_000_000 })),
      metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    };
    await fc.assert(
      fc.asyncProperty(
        fc.record(adminOnly, { requiredKeys: [] }).filter((fields) => Object.keys(fields).length > 0),
        fc.option(fc.constant('renamed by the tenant'), { nil: undefined }),
        fc.constantFrom(a.id, a.uid),
        async (fields, name, path) => {
          const body = name === undefined ? fields : { ...fields, name };
          const res = await own.patch(`/v1/tenants/${path}`, body);
          expect({ body, status: res.status }).toEqual({ body, status: 403 });
          expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(Object.keys(fields).sort());
        },
      ),
      { numRuns: 60 },
    );
    expect(await snapshot(a)).toEqual(before);
    // The admin key may set them all; the tenant key may still rename its tenant.
    expect((await own.patch(`/v1/tenants/${a.id}`, { name: 'alpha renamed' })).status).toBe(200);
    expect((await herald.api.patch(`/v1/tenants/${a.id}`, { publishRateLimitPerSecond: 1000, metadata: { plan: 'pro' } })).status).toBe(200);
  });

  it('answers 401 to a missing, malformed or unknown key on every tenant route', async () => {
    for (const key of [null, '', 'nope', `${b.key}x`, b.key.toUpperCase()]) {
      for (const route of routes) {
        const res = await herald.api.as(key).request(route.method, route.path(b.id, { endpointId: b.endpointId, eventId: b.eventId, deliveryId: b.deliveryId, sourceId: 'src_x' }), route.body);
        expect([route.method, route.path(b.id, { endpointId: '', eventId: '', deliveryId: '', sourceId: '' }), res.status]).toEqual([
          route.method,
          route.path(b.id, { endpointId: '', eventId: '', deliveryId: '', sourceId: '' }),
          401,
        ]);
      }
    }
  });
});
