import { createEndpoint, createTenant, createTenantKey, publish } from '../support/fixtures';
import { ApiClient, Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/** Portal links: a third kind of bearer token, scoped to a tenant (and maybe some endpoints) and to capabilities. */
describe('portal sessions', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let tenant: { id: string };
  let other: { id: string };
  let epA: { id: string; secret: string };
  let epB: { id: string };
  let otherEp: { id: string };
  let deliveryA: string;
  let deliveryB: string;
  let eventA: string;
  let eventB: string;

  const succeeded = async (tenantId: string, eventId: string): Promise<string> =>
    waitFor('a succeeded delivery', async () => {
      const [d] = (await herald.api.get(`/v1/tenants/${tenantId}/deliveries?eventId=${eventId}`)).body.data;
      return d?.status === 'succeeded' ? (d.id as string) : undefined;
    }) as Promise<string>;

  async function portal(body: Record<string, unknown> = {}, tenantId = tenant.id): Promise<{ client: ApiClient; id: string; token: string }> {
    const res = await herald.api.post(`/v1/tenants/${tenantId}/portal-sessions`, body);
    expect(res.status).toBe(201);
    return { client: herald.api.as(res.body.token), id: res.body.id, token: res.body.token };
  }

  beforeAll(async () => {
    herald = await startHerald();
    receiver = await TestReceiver.start();
    tenant = await createTenant(herald.api);
    other = await createTenant(herald.api);
    epA = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/a`, eventTypes: ['a.*'] });
    epB = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/b`, eventTypes: ['b.*'] });
    otherEp = await createEndpoint(herald.api, other.id, { url: `${receiver.url}/other` });
    eventA = (await publish(herald.api, tenant.id, 'a.happened', { n: 1 })).id;
    eventB = (await publish(herald.api, tenant.id, 'b.happened', { n: 2 })).id;
    deliveryA = await succeeded(tenant.id, eventA);
    deliveryB = await succeeded(tenant.id, eventB);
  });
  afterAll(async () => {
    await receiver.close();
    await herald.close();
  });

  it('makes a link with a hashed token, defaults, and a console URL carrying the token in the fragment', async () => {
    const before = Date.now();
    const res = await herald.api.post(`/v1/tenants/${tenant.id}/portal-sessions`, {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^ps_/), token: expect.stringMatching(/^hpt_/), capabilities: ['read'], endpointIds: null, active: true, revokedAt: null });
    expect(res.body.url).toBe(`${new URL(herald.url).protocol}//${new URL(res.body.url).host}/console/#token=${res.body.token}`);
    const lifetime = Date.parse(res.body.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000 + 60_000);
    const [row] = await herald.sql(`SELECT * FROM portal_sessions WHERE id = $1`, [res.body.id]);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(res.body.token);
    const list = await herald.api.get(`/v1/tenants/${tenant.id}/portal-sessions`);
    expect(list.body.data[0]).toEqual({ id: res.body.id, capabilities: ['read'], endpointIds: null, expiresAt: res.body.expiresAt, revokedAt: null, active: true, createdAt: expect.any(String) });
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
  });

  it('refuses bad input naming the field, and creates nothing', async () => {
    const count = async () => (await herald.sql(`SELECT count(*)::int AS n FROM portal_sessions`))[0].n;
    const before = await count();
    for (const [body, field] of [
      [{ capabilities: ['read', 'admin'] }, 'capabilities'],
      [{ capabilities: 'read' }, 'capabilities'],
      [{ expiresInSeconds: 60 }, 'expiresInSeconds'],
      [{ expiresInSeconds: 8 * 24 * 3600 }, 'expiresInSeconds'],
      [{ endpointIds: ['nope'] }, 'endpointIds'],
      [{ endpointIds: [otherEp.id] }, 'endpointIds'],
      [{ unknown: 1 }, 'unknown'],
    ] as const) {
      const res = await herald.api.post(`/v1/tenants/${tenant.id}/portal-sessions`, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expect(JSON.stringify(res.body)).toContain(field);
    }
    expect(await count()).toBe(before);
  });

  it('may be made by the tenant key for its own tenant only, and never by a portal token', async () => {
    const key = await createTenantKey(herald.api, tenant.id);
    expect((await herald.api.as(key).post(`/v1/tenants/${tenant.id}/portal-sessions`, {})).status).toBe(201);
    expect((await herald.api.as(key).post(`/v1/tenants/${other.id}/portal-sessions`, {})).status).toBe(404);
    const { client } = await portal({ capabilities: ['read', 'manage-endpoints', 'view-secrets', 'rotate-secrets', 'resend'] });
    expect((await client.post(`/v1/tenants/${tenant.id}/portal-sessions`, {})).status).toBe(403);
    expect((await client.get(`/v1/tenants/${tenant.id}/portal-sessions`)).status).toBe(403);
  });

  it('tells the console who it is', async () => {
    const { client, token } = await portal({ capabilities: ['read', 'resend'], endpointIds: [epA.id] });
    const me = await client.get('/v1/me');
    expect(me.body).toEqual({ kind: 'portal', tenantId: tenant.id, capabilities: ['read', 'resend'], endpointIds: [epA.id], expiresAt: expect.any(String) });
    expect((await herald.api.get('/v1/me')).body).toMatchObject({ kind: 'admin', tenantId: null, endpointIds: null });
    const key = await createTenantKey(herald.api, tenant.id);
    expect((await herald.api.as(key).get('/v1/me')).body).toMatchObject({ kind: 'tenant', tenantId: tenant.id });
    expect(JSON.stringify(me.body)).not.toContain(token);
  });

  it('a read-only link reads its tenant, cannot read another, and gets 403 for every write', async () => {
    const { client } = await portal();
    const t = tenant.id;
    for (const path of [`/v1/tenants/${t}`, `/v1/tenants/${t}/endpoints`, `/v1/tenants/${t}/endpoints/${epA.id}`, `/v1/tenants/${t}/endpoints/${epA.id}/stats?window=1h`,
      `/v1/tenants/${t}/events`, `/v1/tenants/${t}/events/${eventA}`, `/v1/tenants/${t}/deliveries`, `/v1/tenants/${t}/deliveries/${deliveryA}`,
      `/v1/tenants/${t}/deliveries/${deliveryA}/attempts`, `/v1/tenants/${t}/stats`, `/v1/tenants/${t}/sources`]) {
      expect([path, (await client.get(path)).status]).toEqual([path, 200]);
    }
    for (const path of [`/v1/tenants/${other.id}`, `/v1/tenants/${other.id}/endpoints`, `/v1/tenants/${other.id}/endpoints/${otherEp.id}`, `/v1/tenants/${other.id}/deliveries`]) {
      expect([path, (await client.get(path)).status]).toEqual([path, 404]);
    }
    const before = await herald.sql(`SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY id`, [t]);
    const writes: [string, string, unknown?][] = [
      ['POST', `/v1/tenants/${t}/endpoints`, { url: 'https://example.com/x' }],
      ['PATCH', `/v1/tenants/${t}/endpoints/${epA.id}`, { url: 'https://attacker.example/x' }],
      ['DELETE', `/v1/tenants/${t}/endpoints/${epA.id}`],
      ['GET', `/v1/tenants/${t}/endpoints/${epA.id}/secret`],
      ['POST', `/v1/tenants/${t}/endpoints/${epA.id}/secret/rotate`, {}],
      ['POST', `/v1/tenants/${t}/endpoints/${epA.id}/recover`, { since: '2000-01-01T00:00:00Z' }],
      ['POST', `/v1/tenants/${t}/endpoints/${epA.id}/send-example`, {}],
      ['POST', `/v1/tenants/${t}/deliveries/${deliveryA}/resend`, {}],
      ['POST', `/v1/tenants/${t}/deliveries/resend`, { status: 'succeeded' }],
      ['POST', `/v1/tenants/${t}/events`, { eventType: 'a.x', payload: {} }],
      ['POST', `/v1/tenants/${t}/events/batch`, { events: [{ eventType: 'a.x', payload: {} }] }],
      ['POST', `/v1/tenants/${t}/sources`, { name: 's', verifier: { type: 'none' } }],
      ['PATCH', `/v1/tenants/${t}`, { name: 'taken' }],
      ['DELETE', `/v1/tenants/${t}`],
      ['POST', `/v1/tenants/${t}/api-keys`, {}],
      ['GET', `/v1/tenants`],
      ['POST', `/v1/tenants`, { name: 'x' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await client.request(method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden', message: expect.any(String) });
    }
    expect(await herald.sql(`SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY id`, [t])).toEqual(before);
    expect((await herald.sql(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1`, [t]))[0].n).toBe(2);
  });

  it('each capability opens its own routes and no others', async () => {
    const t = tenant.id;
    const secrets = (await portal({ capabilities: ['read', 'view-secrets'] })).client;
    expect((await secrets.get(`/v1/tenants/${t}/endpoints/${epA.id}/secret`)).body).toEqual({ secret: epA.secret, previousSecretSignsUntil: null });
    expect((await secrets.post(`/v1/tenants/${t}/endpoints/${epA.id}/secret/rotate`, {})).status).toBe(403);

    const resend = (await portal({ capabilities: ['read', 'resend'] })).client;
    expect((await resend.post(`/v1/tenants/${t}/deliveries/${deliveryA}/resend`, {})).status).toBe(202);
    expect((await resend.patch(`/v1/tenants/${t}/endpoints/${epA.id}`, { description: 'x' })).status).toBe(403);

    const manage = (await portal({ capabilities: ['read', 'manage-endpoints'] })).client;
    expect((await manage.patch(`/v1/tenants/${t}/endpoints/${epA.id}`, { description: 'edited by the customer' })).status).toBe(200);
    expect((await manage.get(`/v1/tenants/${t}/endpoints/${epA.id}/secret`)).status).toBe(403);
    expect((await manage.post(`/v1/tenants/${t}/deliveries/${deliveryA}/resend`, {})).status).toBe(403);

    // Without `read`, even reads are refused.
    const writeOnly = (await portal({ capabilities: ['resend'] })).client;
    expect((await writeOnly.get(`/v1/tenants/${t}/endpoints`)).status).toBe(403);
  });

  it('a link limited to some endpoints sees nothing of the others: 404, exactly as missing', async () => {
    const { client } = await portal({ capabilities: ['read', 'resend', 'manage-endpoints', 'view-secrets'], endpointIds: [epA.id] });
    const t = tenant.id;
    expect((await client.get(`/v1/tenants/${t}/endpoints`)).body.data.map((e: { id: string }) => e.id)).toEqual([epA.id]);
    expect((await client.get(`/v1/tenants/${t}/deliveries`)).body.data.map((d: { id: string }) => d.id)).toEqual([deliveryA]);
    expect((await client.get(`/v1/tenants/${t}/deliveries?endpointId=${epB.id}`)).body.data).toEqual([]);
    expect((await client.get(`/v1/tenants/${t}/events`)).body.data.map((e: { id: string }) => e.id)).toEqual([eventA]);
    expect((await client.get(`/v1/tenants/${t}/endpoints/${epA.id}`)).status).toBe(200);
    expect((await client.get(`/v1/tenants/${t}/events/${eventA}`)).status).toBe(200);
    for (const [method, path] of [
      ['GET', `/v1/tenants/${t}/endpoints/${epB.id}`],
      ['GET', `/v1/tenants/${t}/endpoints/${epB.id}/secret`],
      ['GET', `/v1/tenants/${t}/endpoints/${epB.id}/stats`],
      ['PATCH', `/v1/tenants/${t}/endpoints/${epB.id}`],
      ['POST', `/v1/tenants/${t}/endpoints/${epB.id}/recover`],
      ['GET', `/v1/tenants/${t}/deliveries/${deliveryB}`],
      ['GET', `/v1/tenants/${t}/deliveries/${deliveryB}/attempts`],
      ['POST', `/v1/tenants/${t}/deliveries/${deliveryB}/resend`],
      ['GET', `/v1/tenants/${t}/events/${eventB}`],
    ]) {
      const res = await client.request(method, path, method === 'GET' ? undefined : method === 'PATCH' ? { description: 'x' } : { since: '2000-01-01T00:00:00Z' });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      const missing = await client.request(method, path.replace(/(ep|dlv|evt)_[0-9A-Z]{26}/, (id) => `${id.slice(0, -10)}ZZZZZZZZZZ`), method === 'GET' ? undefined : method === 'PATCH' ? { description: 'x' } : { since: '2000-01-01T00:00:00Z' });
      expect(res.body.error).toBe(missing.body.error);
    }
    // Tenant-wide things (sources, new endpoints it could not see) are not for such a link.
    expect((await client.get(`/v1/tenants/${t}/sources`)).status).toBe(403);
    expect((await client.post(`/v1/tenants/${t}/endpoints`, { url: 'https://example.com/y' })).status).toBe(403);
    // Bulk resend stays inside its endpoints.
    const bulk = await client.post(`/v1/tenants/${t}/deliveries/resend`, { status: 'succeeded' });
    expect(bulk.status).toBe(202);
    expect(bulk.body.count).toBeLessThanOrEqual(1);
    expect((await herald.sql(`SELECT next_trigger FROM deliveries WHERE id = $1`, [deliveryB]))[0].next_trigger).not.toBe('manual');
  });

  it('a revoked or expired link answers 401 at once', async () => {
    const revoked = await portal();
    expect((await revoked.client.get(`/v1/tenants/${tenant.id}/endpoints`)).status).toBe(200);
    expect((await herald.api.delete(`/v1/tenants/${tenant.id}/portal-sessions/${revoked.id}`)).status).toBe(204);
    const res = await revoked.client.get(`/v1/tenants/${tenant.id}/endpoints`);
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/revoked/);
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/portal-sessions`)).body.data.find((s: { id: string }) => s.id === revoked.id)).toMatchObject({ active: false, revokedAt: expect.any(String) });
    // Another tenant's session id is not found.
    expect((await herald.api.delete(`/v1/tenants/${other.id}/portal-sessions/${revoked.id}`)).status).toBe(404);

    const expired = await portal();
    await herald.sql(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const late = await expired.client.get(`/v1/tenants/${tenant.id}/endpoints`);
    expect(late.status).toBe(401);
    expect(late.body.message).toMatch(/expired/);
    expect((await herald.api.as('hpt_not-a-real-token').get('/v1/me')).status).toBe(401);
  });
});
