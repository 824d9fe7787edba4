import { createEndpoint, createTenant } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/**
 * Herald relays JSON, so a payload is stored, signed and delivered exactly as the producer's JSON parsed:
 * keys that share a name with a member of Object.prototype included, at any depth.
 */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype);

/** Every awkward key at the top, one level down, three levels down and inside an array. Built from text so __proto__ stays an own key. */
function awkwardJson(): string {
  const leaf = (depth: number) => `{${PROTOTYPE_KEYS.map((k) => `${JSON.stringify(k)}: ${JSON.stringify(`${k}@${depth}`)}`).join(', ')}, "n": ${depth}}`;
  return `{${PROTOTYPE_KEYS.map((k) => `${JSON.stringify(k)}: ${leaf(1)}`).join(', ')}, "deep": {"a": {"b": ${leaf(3)}}}, "list": [${leaf(2)}], "build": {"constructor": "Ferrari", "valueOf": 42, "ok": 1}, "toString": "x"}`;
}

/** The keys of an object parsed from text, recursively, as `path=value` lines: a comparison that no prototype trick can fool. */
function keyPaths(value: unknown, path = '$'): string[] {
  if (value === null || typeof value !== 'object') return [`${path}=${JSON.stringify(value)}`];
  return Object.keys(value as object)
    .sort()
    .flatMap((k) => keyPaths((value as Record<string, unknown>)[k], `${path}.${k}`));
}

describe('payloads and metadata keep every key', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  beforeAll(async () => {
    [herald, receiver] = await Promise.all([startHerald(), TestReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([herald.close(), receiver.close()]);
  });

  const post = (path: string, body: string) => herald.api.request('POST', path, body, { 'content-type': 'application/json' });

  it('stores, signs and delivers a single and a batched payload byte for byte as parsed', async () => {
    const tenant = await createTenant(herald.api);
    await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/keys` });
    const payloadText = awkwardJson();
    const expected = keyPaths(JSON.parse(payloadText));
    expect(expected.some((p) => p.startsWith('$.__proto__.'))).toBe(true);

    const single = await post(`/v1/tenants/${tenant.id}/events`, `{"eventType": "keys.single", "payload": ${payloadText}}`);
    expect(single.status).toBe(202);
    const batch = await post(`/v1/tenants/${tenant.id}/events/batch`, `{"events": [{"eventType": "keys.batch", "payload": ${payloadText}}, {"eventType": "keys.batch", "payload": {"valueOf": 1}}]}`);
    expect(batch.status).toBe(202);
    const ids = [single.body.id, batch.body.data[0].id];

    for (const id of ids) {
      const [row] = await herald.sql('SELECT payload FROM events WHERE id = $1', [id]);
      expect(keyPaths(JSON.parse(row.payload))).toEqual(expected);
      const read = await herald.api.get(`/v1/tenants/${tenant.id}/events/${id}`);
      expect(read.status).toBe(200);
    }
    const [small] = await herald.sql('SELECT payload FROM events WHERE id = $1', [batch.body.data[1].id]);
    expect(small.payload).toBe('{"valueOf":1}');

    await waitFor('three deliveries', () => receiver.forPath('/keys').length >= 3);
    const bodies = receiver.forPath('/keys').map((r) => r.body);
    expect(bodies.filter((b) => b.length > 100).map((b) => keyPaths(JSON.parse(b)))).toEqual([expected, expected]);
    expect(Object.prototype.hasOwnProperty.call({}, 'n')).toBe(false); // nothing leaked into Object.prototype
  });

  it('stores and delivers every character of string values: quotes, backslashes, escapes, control characters, non-ASCII', async () => {
    const tenant = await createTenant(herald.api);
    await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/chars`, channels: ['c#1', 'c:2'] });
    const odd = 'q"uo\'te \\ {"json":[1]} \\u0000 as text, é 漢 🎉 \u0001\u001f\t\n\r end';
    const payload = { [odd]: odd, list: [odd, '', ' '], n: 1.5e300 };
    const expectedText = JSON.stringify(payload);
    const single = await herald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'chars.single', payload, channels: ['c#1'] });
    expect(single.status).toBe(202);
    const batch = await herald.api.post(`/v1/tenants/${tenant.id}/events/batch`, { events: [{ eventType: 'chars.batch', payload, channels: ['c:2', 'other'] }, { eventType: 'chars.batch', payload: { odd }, channels: ['c#1'] }] });
    expect(batch.status).toBe(202);
    const rows = await herald.sql('SELECT id, payload, channels FROM events WHERE id = ANY($1) ORDER BY id', [[single.body.id, batch.body.data[0].id, batch.body.data[1].id]]);
    expect(rows.map((r: { payload: string; channels: string[] | null }) => [r.payload, r.channels])).toEqual([
      [expectedText, ['c#1']],
      [expectedText, ['c:2', 'other']],
      [JSON.stringify({ odd }), ['c#1']],
    ]);
    await waitFor('three deliveries', () => receiver.forPath('/chars').length >= 3);
    expect(receiver.forPath('/chars').map((r) => r.body).sort()).toEqual([expectedText, expectedText, JSON.stringify({ odd })].sort());
  });

  it('keeps every key of endpoint and tenant metadata and of endpoint headers', async () => {
    const metadataText = awkwardJson();
    const expected = keyPaths(JSON.parse(metadataText));
    const tenantRes = await post('/v1/tenants', `{"name": "meta", "metadata": ${metadataText}}`);
    expect(tenantRes.status).toBe(201);
    expect(keyPaths(tenantRes.body.metadata)).toEqual(expected);
    const patched = await herald.api.request('PATCH', `/v1/tenants/${tenantRes.body.id}`, `{"metadata": ${metadataText}}`, { 'content-type': 'application/json' });
    expect(patched.status).toBe(200);
    expect(keyPaths((await herald.api.get(`/v1/tenants/${tenantRes.body.id}`)).body.metadata)).toEqual(expected);

    const headers = '{"constructor": "a", "toString": "b", "valueOf": "c"}';
    const endpoint = await post(`/v1/tenants/${tenantRes.body.id}/endpoints`, `{"url": "${receiver.url}/meta", "metadata": ${metadataText}, "headers": ${headers}}`);
    expect(endpoint.status).toBe(201);
    const read = await herald.api.get(`/v1/tenants/${tenantRes.body.id}/endpoints/${endpoint.body.id}`);
    expect(keyPaths(read.body.metadata)).toEqual(expected);
    expect(read.body.headers).toEqual(JSON.parse(headers));
  });

  it('refuses __proto__ as a field of a request body (it is no field) and changes nothing', async () => {
    const before = await herald.sql('SELECT count(*)::int AS n FROM tenants');
    const res = await post('/v1/tenants', '{"name": "x", "__proto__": {"admin": true}}');
    expect(res.status).toBe(400);
    expect(await herald.sql('SELECT count(*)::int AS n FROM tenants')).toEqual(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
