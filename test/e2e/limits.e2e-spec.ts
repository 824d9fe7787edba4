import { connect, Socket } from 'node:net';
import { createEndpoint, createTenant, createTenantKey } from '../support/fixtures';
import { ADMIN_KEY, Herald, startHerald } from '../support/herald';
import { waitFor } from '../support/wait';

/** A raw connection to the service, to send requests slowly or partly; records what comes back and whether it closed. */
async function rawConnection(url: string): Promise<{ socket: Socket; answer: () => string; closed: () => boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  let closed = false;
  socket.on('data', (d) => (answer += d.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return { socket, answer: () => answer, closed: () => closed };
}

describe('limits before work', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({
      HERALD_ROLE: 'api',
      HERALD_REQUEST_TIMEOUT_MS: '1000',
      HERALD_MAX_BODY_BYTES: '8192',
      HERALD_MAX_PAYLOAD_BYTES: '4096',
      HERALD_MAX_ENDPOINTS_PER_TENANT: '3',
      HERALD_MAX_DELIVERIES_PER_REQUEST: '5',
    });
  });
  afterAll(async () => {
    await herald?.close();
  });

  it('disconnects a client that drips its body slower than the request timeout allows', async () => {
    const { socket, answer, closed } = await rawConnection(herald.url);
    socket.write(`POST /in/src_01JAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      if (!closed()) socket.write('x', () => sent++);
    }, 100);
    try {
      await waitFor('the server to close the connection', closed, 30_000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    expect(sent).toBeLessThan(20_000);
    expect(answer()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('disconnects a client that never finishes its headers', async () => {
    const { socket, closed } = await rawConnection(herald.url);
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => !closed() && socket.write('X-Slow: y\r\n'), 100);
    try {
      await waitFor('the server to close the connection', closed, 30_000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });

  it('answers 401 to a request without a valid key before reading its body', async () => {
    for (const authorization of ['', 'Authorization: Bearer wrong-key\r\n']) {
      const { socket, answer } = await rawConnection(herald.url);
      // A large body is announced and never sent: only an answer given before reading it can come back.
      socket.write(`POST /v1/tenants/t/events/batch HTTP/1.1\r\nHost: x\r\n${authorization}Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n`);
      await waitFor('an answer', () => /\r\n\r\n/.test(answer()), 30_000);
      socket.destroy();
      expect(answer()).toMatch(/^HTTP\/1\.1 401/);
      expect(answer()).toContain('"requestId"');
    }
  });

  it('gives each route its own body limit: the payload limit for publishing, HERALD_MAX_BODY_BYTES elsewhere', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    const big = 'x'.repeat(9000);
    expect((await api.post('/v1/tenants', { name: 'n', metadata: { big } })).status).toBe(413);
    expect((await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: 'https://example.com/a', description: big })).status).toBe(413);
    // A payload over HERALD_MAX_PAYLOAD_BYTES is named; one just under it, in a body above HERALD_MAX_BODY_BYTES' share, passes.
    const over = await api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'lim.x', payload: { big: 'x'.repeat(5000) } });
    expect(over.status).toBe(413);
    expect(over.body.details).toEqual([{ field: 'payload', message: expect.any(String) }]);
    expect((await api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'lim.x', payload: { big: 'x'.repeat(4000) } })).status).toBe(202);
    const batch = await api.post(`/v1/tenants/${tenant.id}/events/batch`, { events: Array.from({ length: 4 }, () => ({ eventType: 'lim.x', payload: { big: 'x'.repeat(4000) } })) });
    expect(batch.status).toBe(202);
    // Far above the batch limit: refused before the body is parsed.
    const huge = JSON.stringify({ events: Array.from({ length: 600 }, () => ({ eventType: 'lim.x', payload: { big: 'x'.repeat(21000) } })) });
    expect((await api.post(`/v1/tenants/${tenant.id}/events/batch`, huge)).status).toBe(413);
  });

  it('caps endpoints per tenant with 422 naming HERALD_MAX_ENDPOINTS_PER_TENANT', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    for (let i = 0; i < 3; i++) await createEndpoint(api, tenant.id, { url: `https://example.com/${i}` });
    const fourth = await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: 'https://example.com/4' });
    expect(fourth.status).toBe(422);
    expect(fourth.body.message).toContain('HERALD_MAX_ENDPOINTS_PER_TENANT');
    const rows = await herald.sql(`SELECT id FROM endpoints WHERE tenant_id = $1`, [tenant.id]);
    expect(rows).toHaveLength(3);
  });

  it('refuses a publish whose fan-out exceeds HERALD_MAX_DELIVERIES_PER_REQUEST with 422, writing nothing, while requests beside it succeed', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    for (let i = 0; i < 3; i++) await createEndpoint(api, tenant.id, { url: `https://example.com/${i}` });
    // 2 events × 3 endpoints = 6 deliveries > 5; each single event is 3.
    const tooMany = api.post(`/v1/tenants/${tenant.id}/events/batch`, { events: [{ eventType: 'fan.out', payload: { big: true } }, { eventType: 'fan.out', payload: {} }] });
    const singles = Array.from({ length: 6 }, (_, i) => api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'fan.out', payload: { i } }));
    const [refused, ...accepted] = await Promise.all([tooMany, ...singles]);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.body).toMatchObject({ details: [{ field: 'events' }], message: expect.stringContaining('HERALD_MAX_DELIVERIES_PER_REQUEST') });
    expect(accepted.map((r) => r.status)).toEqual(Array(6).fill(202));
    const events = await herald.sql(`SELECT id FROM events WHERE tenant_id = $1 ORDER BY id`, [tenant.id]);
    expect(events.map((e) => e.id).sort()).toEqual(accepted.map((r) => r.body.id).sort());
    const deliveries = await herald.sql(`SELECT id FROM deliveries WHERE tenant_id = $1`, [tenant.id]);
    expect(deliveries).toHaveLength(18);
  });

  it('refuses endpoint headers that would make every delivery fail, with 400 naming headers, creating nothing', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    for (const headers of [{ 'X-A': '\u0001' }, { 'X-A': 'a\u007fb' }, { Expect: '100-continue' }, { 'Content-Encoding': 'gzip' }, { 'X-A': 'line\r\nX-Injected: 1' }, { 'X-A': '€' }]) {
      const res = await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: 'https://example.com/h', headers });
      expect({ headers, status: res.status }).toEqual({ headers, status: 400 });
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['headers']);
    }
    const endpoint = await createEndpoint(api, tenant.id, { url: 'https://example.com/h', headers: { Authorization: 'Bearer x', 'X-Name': 'café' } });
    const patched = await api.patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { headers: { 'Content-Encoding': 'br' } });
    expect(patched.status).toBe(400);
    expect((await herald.sql(`SELECT headers FROM endpoints WHERE tenant_id = $1`, [tenant.id]))[0].headers).toEqual({ Authorization: 'Bearer x', 'X-Name': 'café' });
  });

  it('accepts Content-Type: application/json with an empty body on body-less POST and DELETE routes', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    const endpoint = await createEndpoint(api, tenant.id, { url: 'https://example.com/e' });
    const json = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
    const empty = (method: string, path: string) => fetch(`${herald.url}${path}`, { method, headers: json, body: method === 'DELETE' ? undefined : '' });
    expect((await empty('POST', `/v1/tenants/${tenant.id}/api-keys`)).status).toBe(201);
    expect((await empty('POST', `/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret/rotate`)).status).toBe(200);
    expect((await empty('DELETE', `/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).status).toBe(204);
    const other = await createTenant(api);
    await createTenantKey(api, other.id);
    expect((await empty('DELETE', `/v1/tenants/${other.id}`)).status).toBe(204);
  });
});
