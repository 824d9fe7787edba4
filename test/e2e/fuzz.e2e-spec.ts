import fc from 'fast-check';
import { createEndpoint, createTenant } from '../support/fixtures';
import { ADMIN_KEY, Herald, startHerald } from '../support/herald';

/**
 * Property-based fuzzing of every route: malformed JSON, wrong types, huge strings, deep nesting, unicode
 * edge cases, bad ids, bad cursors, bad URLs and oversized bodies. Never a 5xx; every error is the
 * documented `{statusCode, error, message, details?}`; and the database holds only what the requests
 * that were answered 2xx wrote.
 */

const TABLES = ['tenants', 'api_keys', 'endpoints', 'events', 'deliveries', 'attempts'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

interface Sent {
  method: string;
  path: string;
  body?: string;
  contentType?: string | null;
}

// ----------------------------------------------------------------------------------- generators

const unicodeEdge = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u202e',
  '\u200b',
  '😀',
  '👩‍👩‍👧‍👦',
  'e\u0301',
  '\uffff',
  '\\u0000',
  '%00',
  '../..',
  "'; DROP TABLE events; --",
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
);
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(unicodeEdge, { minLength: 1, maxLength: 5 }).map((a) => a.join('')),
  fc.integer({ min: 1000, max: 400_000 }).map((n) => 'x'.repeat(n)),
);
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
);
/** Nesting as deep as 10 000 levels, as text (JSON.stringify would do it too, but slower to build). */
const deepNesting = fc.integer({ min: 50, max: 10_000 }).chain((depth) =>
  fc.constantFrom(`${'['.repeat(depth)}${']'.repeat(depth)}`, `{"payload":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"eventType":"a.b"}`),
);
const malformedJson = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '{', '}', '{"a":', '[1,2', '{"eventType":"a.b","payload":{}', 'nul', 'NaN', '{"a":1,}', "{'a':1}", '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '1e99999'),
  fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
);
/** A body mutated from a valid one: a field dropped, retyped, or an unknown one added. */
function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  const added = fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), weirdValue).map(([k, v]) => ({ ...valid, [k]: v }));
  if (keys.length === 0) return fc.oneof(added, weirdValue);
  return fc.oneof(
    fc.constantFrom(...keys).chain((k) => weirdValue.map((v) => ({ ...valid, [k]: v }))),
    fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k))),
    added,
    weirdValue,
  );
}
const body = (valid: Record<string, unknown>): fc.Arbitrary<{ body: string; contentType?: string | null }> =>
  fc.oneof(
    { weight: 6, arbitrary: mutated(valid).map((v) => ({ body: JSON.stringify(v) ?? 'undefined' })) },
    { weight: 2, arbitrary: malformedJson.map((b) => ({ body: b })) },
    { weight: 1, arbitrary: deepNesting.map((b) => ({ body: b })) },
    { weight: 1, arbitrary: fc.constantFrom(null, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x').map((contentType) => ({ body: JSON.stringify(valid), contentType })) },
  );
const badId = fc.oneof(
  fc.constantFrom('x', 'evt_', 'ep_01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'dlv_' + 'Z'.repeat(26), 'tnt_' + '0'.repeat(300), '..', '%2e%2e', '%00', '%ZZ', '%F0%9F%98%80', 'null', 'undefined', '__proto__', '-1', '1e9'),
  fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).map(encodeURIComponent),
  fc.integer({ min: 300, max: 5000 }).map((n) => 'a'.repeat(n)),
);
const badQuery = fc.record(
  {
    limit: fc.oneof(fc.constantFrom('0', '-1', '251', '1.5', 'abc', '', '1e3', '99999999999999999999', ' 5'), fc.string({ maxLength: 8 })),
    cursor: fc.oneof(fc.constantFrom('', '!!!', 'Zm9v', 'ZXZ0XzAx', Buffer.from('evt_01ZZZZZZZZZZZZZZZZZZZZZZZZ').toString('base64url'), '%00'), fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 60 })),
    since: fc.oneof(fc.constantFrom('', 'yesterday', '2024-13-45T99:99:99Z', '0000-00-00T00:00:00Z', '9999-12-31T23:59:59Z', '2024-01-01'), fc.string({ maxLength: 20 })),
    until: fc.string({ maxLength: 20 }),
    status: fc.oneof(fc.constantFrom('pending', 'dead', 'succeeded', 'PENDING', '', 'all'), fc.string({ maxLength: 10 })),
    eventType: fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(200), 'a.*'), fc.string({ maxLength: 20 })),
    endpointId: badId,
  },
  { requiredKeys: [] },
).map((q) => Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&'));
const badUrl = fc.oneof(
  fc.constantFrom('', 'not a url', 'ftp://example.com', 'javascript:alert(1)', 'file:///etc/passwd', 'http://', 'http://user:pw@example.com', 'https://exa mple.com', 'http://[::1', 'http://example.com:99999', 'gopher://x', `https://example.com/${'a'.repeat(3000)}`, 'https://\u0000.com', 'data:text/plain,hi'),
  fc.webUrl().map((u) => u.replace(/^https?/, 'ws')),
  fc.string({ maxLength: 50 }),
);

// ----------------------------------------------------------------------------------- the test

describe('fuzzing every route', () => {
  let herald: Herald;
  let tenantId: string;
  let endpointId: string;

  beforeAll(async () => {
    herald = await startHerald();
    tenantId = (await createTenant(herald.api)).id;
    endpointId = (await createEndpoint(herald.api, tenantId, { url: 'https://example.com/hook' })).id;
  });
  afterAll(async () => {
    await herald.close();
  });

  const counts = async (): Promise<Counts> => {
    const [row] = await herald.sql(`SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
    return row as Counts;
  };

  /** What each 2xx answer wrote, to compare with the row counts at the end. */
  const written: Counts = { tenants: 0, api_keys: 0, endpoints: 0, events: 0, deliveries: 0, attempts: 0 };
  const eventIds = new Set<string>();
  const statuses = new Map<number, number>();
  let cases = 0;

  async function send(req: Sent): Promise<void> {
    cases++;
    const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` };
    const contentType = req.contentType === undefined ? 'application/json' : req.contentType;
    if (req.body !== undefined && contentType !== null) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(herald.url + req.path, { method: req.method, headers, body: req.body });
    } catch (error) {
      // A URL that fetch itself refuses never reaches the server.
      if (error instanceof TypeError && /Invalid URL|Failed to parse/i.test(String(error.message) + String((error as { cause?: Error }).cause?.message))) return;
      throw new Error(`${req.method} ${req.path.slice(0, 200)}: no answer: ${(error as Error).message}`);
    }
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const what = `${req.method} ${req.path.slice(0, 200)} [${(req.body ?? '').slice(0, 200)}] → ${res.status} ${text.slice(0, 300)}`;
    if (res.status >= 500) throw new Error(`5xx: ${what}`);
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      throw new Error(`not JSON: ${what}`);
    }
    if (res.status >= 400) {
      const keys = Object.keys(parsed ?? {}).sort();
      const shapeOk =
        parsed &&
        parsed.statusCode === res.status &&
        typeof parsed.error === 'string' &&
        parsed.error.length > 0 &&
        typeof parsed.message === 'string' &&
        parsed.message.length > 0 &&
        typeof parsed.requestId === 'string' &&
        parsed.requestId === res.headers.get('x-request-id') &&
        keys.every((k) => ['statusCode', 'error', 'message', 'details', 'requestId'].includes(k)) &&
        (parsed.details === undefined || (Array.isArray(parsed.details) && parsed.details.every((d: any) => typeof d.field === 'string' && typeof d.message === 'string')));
      if (!shapeOk) throw new Error(`wrong error body: ${what}`);
      if (res.status === 400 && !parsed.details?.length) throw new Error(`400 without details naming the field: ${what}`);
      return;
    }
    // A request that happened to be valid: note what it wrote.
    if (req.method === 'POST' && res.status === 201 && req.path === '/v1/tenants') written.tenants++;
    if (req.method === 'POST' && res.status === 201 && /\/endpoints$/.test(req.path)) written.endpoints++;
    if (req.method === 'POST' && res.status === 201 && /\/api-keys$/.test(req.path)) written.api_keys++;
    if (req.method === 'POST' && res.status === 202 && /\/send-example$/.test(req.path)) {
      written.events++;
      written.deliveries++;
    }
    if (req.method === 'POST' && res.status === 202 && /\/events(\/batch)?$/.test(req.path)) {
      for (const e of parsed.data ?? [parsed]) {
        if (eventIds.has(e.id)) continue;
        eventIds.add(e.id);
        written.events++;
        written.deliveries += e.deliveryCount;
      }
    }
  }

  const run = (name: string, arbitrary: fc.Arbitrary<Sent>, numRuns: number) =>
    fc.assert(
      fc.asyncProperty(arbitrary, (req) =>
        send(req).catch((error: Error) => {
          failure ??= error.message;
          throw error;
        }),
      ),
      { numRuns, endOnFailure: true },
    ).catch((error: Error) => {
      // fast-check's own message repeats the (possibly huge) counterexample; the first failure says it all.
      throw new Error(`${name}: ${failure ?? error.message.slice(0, 2000)}`);
    });
  let failure: string | undefined;

  it('never answers 5xx, always the documented error body, and writes only what valid requests wrote', async () => {
    const started = Date.now();
    const before = await counts();
    const t = () => tenantId;
    const ep = () => endpointId;

    await run('publish', body({ eventType: 'fuzz.event', payload: { a: 1 }, idempotencyKey: 'k' }).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/events`, ...b })), 300);
    await run(
      'batch',
      body({ events: [{ eventType: 'fuzz.event', payload: {} }, { eventType: 'bad type', payload: [] }] }).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/events/batch`, ...b })),
      200,
    );
    await run(
      'create endpoint',
      fc.oneof(
        badUrl.map((url) => ({ body: JSON.stringify({ url }) })),
        body({ url: 'https://example.com/x', eventTypes: ['a.*'], retryPolicy: { maxAttempts: 3 }, headers: { 'x-a': 'b' }, timeoutMs: 1000, secret: 'whsec_' + 'A'.repeat(32) }),
      ).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/endpoints`, ...b })),
      300,
    );
    await run(
      'update endpoint',
      fc.tuple(fc.oneof(fc.constant(ep()), badId), fc.oneof(badUrl.map((url) => ({ body: JSON.stringify({ url }) })), body({ description: 'd', disabled: false, rateLimitPerSecond: 5, metadata: {} }))).map(([id, b]) => ({
        method: 'PATCH',
        path: `/v1/tenants/${t()}/endpoints/${id}`,
        ...b,
      })),
      200,
    );
    await run('create tenant', body({ name: 'fuzz', uid: 'fuzz-uid', metadata: {}, publishRateLimitPerSecond: null }).map((b) => ({ method: 'POST', path: '/v1/tenants', ...b })), 200);
    await run('update tenant', fc.tuple(fc.oneof(fc.constant(t()), badId), body({ name: 'renamed', metadata: { a: 1 } })).map(([id, b]) => ({ method: 'PATCH', path: `/v1/tenants/${id}`, ...b })), 150);
    await run(
      'lists',
      fc.tuple(fc.constantFrom(`/v1/tenants/${t()}/events`, `/v1/tenants/${t()}/deliveries`, `/v1/tenants/${t()}/endpoints`, '/v1/tenants', `/v1/tenants/${t()}/sources`), badQuery).map(([path, q]) => ({ method: 'GET', path: `${path}?${q}` })),
      300,
    );
    await run(
      'bad ids',
      fc
        .tuple(
          fc.constantFrom(
            ['GET', '/v1/tenants/:bad'],
            ['DELETE', '/v1/tenants/:bad'],
            ['GET', '/v1/tenants/:t/endpoints/:bad'],
            ['DELETE', '/v1/tenants/:t/endpoints/:bad'],
            ['GET', '/v1/tenants/:t/endpoints/:bad/secret'],
            ['POST', '/v1/tenants/:t/endpoints/:bad/secret/rotate'],
            ['GET', '/v1/tenants/:t/endpoints/:bad/stats'],
            ['GET', '/v1/tenants/:t/events/:bad'],
            ['GET', '/v1/tenants/:t/deliveries/:bad'],
            ['GET', '/v1/tenants/:t/deliveries/:bad/attempts'],
            ['POST', '/v1/tenants/:t/deliveries/:bad/resend'],
            ['POST', '/v1/tenants/:bad/events'],
            ['POST', '/v1/tenants/:bad/api-keys'],
            ['GET', '/v1/tenants/:t/sources/:bad'],
            ['DELETE', '/v1/tenants/:t/sources/:bad'],
            ['POST', '/in/:bad'],
            ['DELETE', '/v1/tenants/:t/portal-sessions/:bad'],
            ['POST', '/v1/tenants/:t/endpoints/:bad/send-example'],
          ),
          badId,
        )
        .map(([[method, template], id]) => ({ method, path: template.replace(':t', t()).replace(':bad', id), body: method === 'POST' ? '{}' : undefined })),
      300,
    );
    await run(
      'recover',
      fc.tuple(fc.oneof(fc.constant(ep()), badId), body({ since: '2024-01-01T00:00:00Z', until: '2030-01-01T00:00:00Z' })).map(([id, b]) => ({ method: 'POST', path: `/v1/tenants/${t()}/endpoints/${id}/recover`, ...b })),
      150,
    );
    await run(
      'portal sessions',
      body({ capabilities: ['read', 'resend'], endpointIds: [ep()], expiresInSeconds: 600 }).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/portal-sessions`, ...b })),
      100,
    );
    await run(
      'bulk resend',
      body({ status: 'dead', endpointId: ep(), eventType: 'fuzz.event', since: '2024-01-01T00:00:00Z', until: '2030-01-01T00:00:00Z' }).map((b) => ({
        method: 'POST',
        path: `/v1/tenants/${t()}/deliveries/resend`,
        ...b,
      })),
      100,
    );
    await run('send example', body({ eventType: 'fuzz.test', payload: { a: 1 } }).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/endpoints/${ep()}/send-example`, ...b })), 60);
    await run(
      'stats window',
      fc.tuple(fc.oneof(fc.constant('24h'), fc.string({ maxLength: 8 })), fc.oneof(fc.constant('1h'), fc.string({ maxLength: 8 }))).map(([w, st]) => ({
        method: 'GET',
        path: `/v1/tenants/${t()}/endpoints/${ep()}/stats?window=${encodeURIComponent(w)}&step=${encodeURIComponent(st)}`,
      })),
      100,
    );
    await run('api keys', body({}).map((b) => ({ method: 'POST', path: `/v1/tenants/${t()}/api-keys`, ...b })), 50);
    await run(
      'create source',
      body({ name: 'fuzz', verifier: { type: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex', secret: 's'.repeat(16) }, eventType: 'a.b' }).map((b) => ({
        method: 'POST',
        path: `/v1/tenants/${t()}/sources`,
        ...b,
      })),
      100,
    );
    // Oversized bodies: above the event payload limit (256 KiB) and above the request limit (16 MiB).
    for (const [path, size] of [
      [`/v1/tenants/${t()}/events`, 300_000],
      [`/v1/tenants/${t()}/events/batch`, 17 * 1024 * 1024],
      [`/v1/tenants/${t()}/endpoints`, 17 * 1024 * 1024],
    ] as const) {
      const payload = { eventType: 'big.one', payload: { blob: 'x'.repeat(size) } };
      const text = path.endsWith('batch') ? JSON.stringify({ events: [payload] }) : JSON.stringify(payload);
      await send({ method: 'POST', path, body: text });
    }
    expect(statuses.get(413)).toBeGreaterThanOrEqual(2);

    // Give the API a moment to finish anything it had started, then count.
    await new Promise((r) => setTimeout(r, 500));
    const after = await counts();
    const delta = Object.fromEntries(TABLES.map((t) => [t, after[t] - before[t]]));
    console.log(
      `fuzz: ${cases} cases in ${Date.now() - started} ms; answers ${[...statuses].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}×${n}`).join(' ')}; rows written ${JSON.stringify(delta)}`,
    );
    expect(cases).toBeGreaterThanOrEqual(2000);
    // Deliveries to fuzz endpoints are attempted (and fail: example.com is not reachable here), so attempts may grow.
    expect({ ...delta, attempts: 0 }).toEqual({ ...written, attempts: 0 });
  });
});
