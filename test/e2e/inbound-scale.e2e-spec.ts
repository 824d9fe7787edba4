import { createHmac } from 'node:crypto';
import Redis from 'ioredis';
import { createTenant } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { waitFor } from '../support/wait';

/** Two API processes on one database and Redis: the cached sources and the grouped request log. */
describe('inbound across API processes', () => {
  let a: Herald;
  let b: Herald;

  beforeAll(async () => {
    a = await startHerald({ HERALD_ROLE: 'api' });
    b = await startHerald({ HERALD_ROLE: 'api' }, a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function createSource(tenantId: string, body: Record<string, unknown>) {
    const res = await a.api.post(`/v1/tenants/${tenantId}/sources`, body);
    if (res.status !== 201) throw new Error(`source creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string };
  }

  async function ingest(herald: Herald, sourceId: string, body: string, headers: Record<string, string>) {
    const res = await fetch(`${herald.url}/in/${sourceId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as any };
  }

  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const hmac = (secret: string) => ({ type: 'hmac', secret, header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' });

  it('verifies with the new secret on the very next request after a PATCH made through another process', async () => {
    const tenant = await createTenant(a.api);
    const source = await createSource(tenant.id, { name: 'erp', verifier: hmac('old-secret') });
    const body = JSON.stringify({ order: 1 });

    // Process b now holds the source, with its opened verifier, in its cache.
    expect((await ingest(b, source.id, body, { 'x-sig': sign('old-secret', body) })).status).toBe(200);
    expect((await ingest(b, source.id, body, { 'x-sig': sign('new-secret', body) })).status).toBe(401);

    const patched = await a.api.patch(`/v1/tenants/${tenant.id}/sources/${source.id}`, { verifier: hmac('new-secret') });
    expect(patched.status).toBe(200);

    expect((await ingest(b, source.id, body, { 'x-sig': sign('new-secret', body) })).status).toBe(200);
    expect((await ingest(b, source.id, body, { 'x-sig': sign('old-secret', body) })).status).toBe(401);

    // Deleted through a: b answers 404 at once, and a source created afterwards is found by b.
    expect((await a.api.delete(`/v1/tenants/${tenant.id}/sources/${source.id}`)).status).toBe(204);
    expect((await ingest(b, source.id, body, { 'x-sig': sign('new-secret', body) })).status).toBe(404);
    const next = await createSource(tenant.id, { name: 'erp2', verifier: { type: 'none' } });
    expect((await ingest(b, next.id, body, {})).status).toBe(200);
  });

  it('still sees a change through another process on the very next request after Redis lost the source versions', async () => {
    const tenant = await createTenant(a.api);
    const source = await createSource(tenant.id, { name: 'flushed', verifier: hmac('one') });
    const body = JSON.stringify({ order: 2 });
    expect((await ingest(b, source.id, body, { 'x-sig': sign('one', body) })).status).toBe(200);

    // As after a FLUSHALL or a Redis restarted empty, for this source only (other suites share this Redis).
    const redis = new Redis(a.env.REDIS_URL!);
    try {
      expect(await redis.del(`herald:source:${source.id}:version`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    // The change comes before b reads again: a version counted again from nothing would repeat the one b holds.
    expect((await a.api.patch(`/v1/tenants/${tenant.id}/sources/${source.id}`, { verifier: hmac('two') })).status).toBe(200);
    expect((await ingest(b, source.id, body, { 'x-sig': sign('two', body) })).status).toBe(200);
    expect((await ingest(b, source.id, body, { 'x-sig': sign('one', body) })).status).toBe(401);
  });

  it('answers 404 once the tenant is deleted through another process, whatever that process has cached', async () => {
    const tenant = await createTenant(a.api);
    const source = await createSource(tenant.id, { name: 'gone', verifier: { type: 'none' } });
    expect((await ingest(b, source.id, '{"n":1}', {})).status).toBe(200);
    expect((await a.api.delete(`/v1/tenants/${tenant.id}`)).status).toBe(204);
    expect((await ingest(b, source.id, '{"n":2}', {})).status).toBe(404);
    expect(await a.sql('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [tenant.id])).toEqual([{ n: 0 }]);
  });

  it('logs every one of many concurrent requests, each with its own outcome, whichever process answered it', async () => {
    const tenant = await createTenant(a.api);
    const source = await createSource(tenant.id, { name: 'burst', verifier: hmac('s3cret') });
    const requests = Array.from({ length: 60 }, (_, i) => {
      const body = JSON.stringify({ n: i });
      const good = i % 4 !== 0;
      return { herald: i % 2 ? a : b, body, good, sig: good ? sign('s3cret', body) : sign('wrong', body) };
    });

    const answers = await Promise.all(requests.map((r) => ingest(r.herald, source.id, r.body, { 'x-sig': r.sig })));
    expect(answers.map((x) => x.status)).toEqual(requests.map((r) => (r.good ? 200 : 401)));
    const eventIds = answers.filter((x) => x.status === 200).map((x) => x.body.eventId as string);

    // Written after the answers: b's rows reach the table within moments, a's before a lists them.
    const logged = async () => (await a.sql<{ n: number }>('SELECT count(*)::int AS n FROM source_requests WHERE source_id = $1', [source.id]))[0].n;
    await waitFor('every request in the log', async () => (await logged()) >= requests.length);
    const rows = await a.sql<{ accepted: boolean; status_code: number; reason: string | null; event_id: string | null; body_bytes: number }>(
      'SELECT accepted, status_code, reason, event_id, body_bytes FROM source_requests WHERE source_id = $1',
      [source.id],
    );
    expect(rows).toHaveLength(requests.length);
    const accepted = rows.filter((r) => r.accepted);
    expect(accepted.map((r) => r.event_id).sort()).toEqual([...eventIds].sort());
    expect(accepted.every((r) => r.status_code === 200 && r.reason === null)).toBe(true);
    const refused = rows.filter((r) => !r.accepted);
    expect(refused).toHaveLength(requests.filter((r) => !r.good).length);
    expect(refused.every((r) => r.status_code === 401 && r.reason === 'signature mismatch' && r.event_id === null)).toBe(true);
    expect(rows.map((r) => r.body_bytes).sort()).toEqual(requests.map((r) => Buffer.byteLength(r.body)).sort());

    const listed = await a.api.get(`/v1/tenants/${tenant.id}/sources/${source.id}/requests?limit=100`);
    expect(listed.body.data).toHaveLength(requests.length);
    for (const herald of [a, b]) {
      const metrics = await (await fetch(`${herald.url}/metrics`)).text();
      expect(metrics).toMatch(/^herald_inbound_request_log_failures_total 0$/m);
    }
  });
});
