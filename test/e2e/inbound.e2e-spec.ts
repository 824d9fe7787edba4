import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { createEndpoint, createTenant, createTenantKey } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { Received, TestReceiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

const stripe = new Stripe('sk_test_x');

describe('inbound sources', () => {
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

  async function createSource(tenantId: string, body: Record<string, unknown>) {
    const res = await api().post(`/v1/tenants/${tenantId}/sources`, body);
    if (res.status !== 201) throw new Error(`source creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; name: string; ingestUrl: string; verifier: Record<string, unknown>; eventType: string | null };
  }

  /** Posts to the public ingest URL exactly these bytes, with no bearer key. */
  async function ingest(sourceId: string, body: string | Buffer | undefined, headers: Record<string, string> = {}) {
    const res = await fetch(`${herald.url}/in/${sourceId}`, { method: 'POST', headers, body });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed };
  }

  const eventsOf = async (tenantId: string) => (await api().get(`/v1/tenants/${tenantId}/events`)).body.data as { id: string; eventType: string }[];
  const requestsOf = async (tenantId: string, sourceId: string, query = '') => (await api().get(`/v1/tenants/${tenantId}/sources/${sourceId}/requests${query}`)).body;
  const received = (path: string) => waitFor(`a delivery to ${path}`, () => receiver.forPath(path)[0]);

  function verifyOutbound(request: Received, endpointSecret: string) {
    return new Webhook(endpointSecret).verify(request.body, request.headers as Record<string, string>);
  }

  describe('Stripe', () => {
    it('accepts a signed event, delivers it byte for byte once, and refuses a tampered one', async () => {
      const tenant = await createTenant(api());
      const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/stripe`, eventTypes: ['invoice.*'] });
      const secret = `whsec_${randomBytes(24).toString('hex')}`;
      const source = await createSource(tenant.id, { name: 'stripe', verifier: { type: 'stripe', secret } });
      expect(source).toMatchObject({ id: expect.stringMatching(/^src_/), name: 'stripe', verifier: { type: 'stripe' }, eventType: null, ingestUrl: `${herald.url}/in/${source.id}` });

      // Stripe's own formatting: whatever it is, the endpoint must get these exact bytes.
      const payload = `{\n  "id": "evt_1Q${randomBytes(6).toString('hex')}",\n  "object": "event",\n  "type": "invoice.paid",\n  "data": {"object": {"amount_paid": 4200, "note": "café ☕"}}\n}`;
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
      const headers = { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' };

      const first = await ingest(source.id, payload, headers);
      expect(first).toEqual({ status: 200, body: { eventId: expect.stringMatching(/^evt_/), duplicate: false } });

      const delivered = await received('/stripe');
      expect(delivered.body).toBe(payload);
      expect(verifyOutbound(delivered, endpoint.secret)).toEqual(JSON.parse(payload));
      expect(delivered.headers['webhook-id']).toBe(first.body.eventId);
      expect(delivered.headers['x-herald-source-user-agent']).toBe(headers['user-agent']);
      expect(delivered.headers['x-herald-source-content-type']).toBe(headers['content-type']);
      expect(Object.keys(delivered.headers).filter((h) => h.includes('stripe-signature'))).toEqual([]);

      const event = (await api().get(`/v1/tenants/${tenant.id}/events/${first.body.eventId}`)).body;
      expect(event).toMatchObject({ eventType: 'invoice.paid', payload: JSON.parse(payload) });

      // Stripe retries the same event: answered 200, stored once, delivered once.
      const again = await ingest(source.id, payload, headers);
      expect(again).toEqual({ status: 200, body: { eventId: first.body.eventId, duplicate: true } });
      await sleep(1000);
      expect(receiver.received).toHaveLength(1);
      expect((await eventsOf(tenant.id)).map((e) => e.id)).toEqual([first.body.eventId]);

      const tampered = await ingest(source.id, payload.replace('4200', '1'), headers);
      expect(tampered.status).toBe(401);
      expect(tampered.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'the request could not be verified: signature mismatch', requestId: expect.any(String) });
      const unsigned = await ingest(source.id, payload, { 'content-type': 'application/json' });
      expect(unsigned.status).toBe(401);
      expect(await herald.sql('SELECT id FROM events WHERE tenant_id = $1', [tenant.id])).toEqual([{ id: first.body.eventId }]);
      expect(await herald.sql('SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1', [tenant.id])).toEqual([{ n: 1 }]);

      const log = await requestsOf(tenant.id, source.id);
      expect(log.nextCursor).toBeNull();
      expect(log.data.map((r: any) => [r.accepted, r.statusCode, r.reason, r.duplicate])).toEqual([
        [false, 401, 'missing header stripe-signature', false],
        [false, 401, 'signature mismatch', false],
        [true, 200, null, true],
        [true, 200, null, false],
      ]);
      expect(log.data[3]).toMatchObject({
        id: expect.stringMatching(/^req_/),
        eventId: first.body.eventId,
        eventType: 'invoice.paid',
        providerEventId: JSON.parse(payload).id,
        contentType: headers['content-type'],
        bodyBytes: Buffer.byteLength(payload),
      });
      expect(log.data[1]).toMatchObject({ eventId: null, providerEventId: null });
    });

    it('stores and delivers an event once when the provider sends it several times at once', async () => {
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: `${receiver.url}/burst` });
      const secret = `whsec_${randomBytes(24).toString('hex')}`;
      const source = await createSource(tenant.id, { name: 'stripe', verifier: { type: 'stripe', secret } });
      const payload = JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, type: 'charge.succeeded' });
      const headers = { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret }) };

      const answers = await Promise.all(Array.from({ length: 8 }, () => ingest(source.id, payload, headers)));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(new Set(answers.map((a) => a.body.eventId)).size).toBe(1);
      await received('/burst');
      await sleep(1000);
      expect(receiver.received).toHaveLength(1);
      expect(await eventsOf(tenant.id)).toHaveLength(1);
      expect((await requestsOf(tenant.id, source.id)).data).toHaveLength(8);
    });
  });

  describe('GitHub', () => {
    it('takes the type from X-GitHub-Event and dedupes on X-GitHub-Delivery', async () => {
      const tenant = await createTenant(api());
      const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/gh`, eventTypes: ['push'] });
      const secret = randomBytes(16).toString('hex');
      const source = await createSource(tenant.id, { name: 'github', verifier: { type: 'github', secret } });

      const payload = JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'acme/app' } });
      const delivery = randomUUID();
      const headers = {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`,
        'x-hub-signature': `sha1=${createHmac('sha1', secret).update(payload).digest('hex')}`,
      };
      const first = await ingest(source.id, payload, headers);
      expect(first).toMatchObject({ status: 200, body: { duplicate: false } });

      const request = await received('/gh');
      expect(request.body).toBe(payload);
      expect(verifyOutbound(request, endpoint.secret)).toEqual(JSON.parse(payload));
      expect(request.headers['x-herald-source-x-github-event']).toBe('push');
      expect(request.headers['x-herald-source-x-github-delivery']).toBe(delivery);
      expect(request.headers['x-herald-source-x-hub-signature-256']).toBeUndefined();
      expect(request.headers['x-herald-source-x-hub-signature']).toBeUndefined();

      expect(await ingest(source.id, payload, headers)).toEqual({ status: 200, body: { eventId: first.body.eventId, duplicate: true } });
      // A new delivery id is a new event, even with the same body.
      const redelivered = { ...headers, 'x-github-delivery': randomUUID() };
      const second = await ingest(source.id, payload, redelivered);
      expect(second.body).toMatchObject({ duplicate: false });
      expect(second.body.eventId).not.toBe(first.body.eventId);
      await waitFor('the second delivery', () => receiver.forPath('/gh').length >= 2);
      await sleep(500);
      expect(receiver.forPath('/gh')).toHaveLength(2);

      const events = await eventsOf(tenant.id);
      expect(events.map((e) => e.eventType)).toEqual(['push', 'push']);

      const bad = await ingest(source.id, payload, { ...headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` });
      expect(bad.status).toBe(401);
      expect((await requestsOf(tenant.id, source.id)).data[0]).toMatchObject({ accepted: false, reason: 'signature mismatch', providerEventId: null });
    });
  });

  describe('Standard Webhooks', () => {
    it('verifies webhook-* signatures and takes the type from the body', async () => {
      const tenant = await createTenant(api());
      const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/sw` });
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const source = await createSource(tenant.id, { name: 'acme', verifier: { type: 'standard-webhooks', secret } });

      const payload = JSON.stringify({ type: 'user.created', data: { id: 'u_1' } });
      const msgId = `msg_${randomBytes(8).toString('hex')}`;
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'webhook-id': msgId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(msgId, now, payload),
      };
      const first = await ingest(source.id, payload, headers);
      expect(first).toMatchObject({ status: 200, body: { duplicate: false } });
      const request = await received('/sw');
      expect(request.body).toBe(payload);
      expect(verifyOutbound(request, endpoint.secret)).toEqual(JSON.parse(payload));
      // The outbound request carries Herald's own webhook-* headers; the sender's id travels as x-herald-source-webhook-id.
      expect(request.headers['webhook-id']).toBe(first.body.eventId);
      expect(request.headers['x-herald-source-webhook-id']).toBe(msgId);
      expect(request.headers['x-herald-source-webhook-signature']).toBeUndefined();
      expect((await eventsOf(tenant.id))[0].eventType).toBe('user.created');

      expect((await ingest(source.id, payload, headers)).body).toEqual({ eventId: first.body.eventId, duplicate: true });
      const wrongKey = new Webhook(`whsec_${randomBytes(32).toString('base64')}`).sign(msgId, now, payload);
      expect((await ingest(source.id, payload, { ...headers, 'webhook-signature': wrongKey })).status).toBe(401);
      await sleep(500);
      expect(receiver.received).toHaveLength(1);
    });
  });

  describe('any content type', () => {
    it('wraps a form post as {raw, contentType}, forwards the sender headers but never the credential', async () => {
      const tenant = await createTenant(api());
      const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/form` });
      const source = await createSource(tenant.id, { name: 'forms', eventType: 'form.submitted', verifier: { type: 'api-key', header: 'X-Api-Key', value: 'k3y-value' } });
      expect(source.verifier).toEqual({ type: 'api-key', header: 'X-Api-Key' });

      const body = 'name=Ann+Lee&note=caf%C3%A9&n=1';
      const res = await ingest(source.id, body, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-api-key': 'k3y-value',
        'x-request-origin': 'forms-app',
        cookie: 'session=abc',
      });
      expect(res.status).toBe(200);

      const request = await received('/form');
      const expected = { raw: Buffer.from(body).toString('base64'), contentType: 'application/x-www-form-urlencoded' };
      expect(JSON.parse(request.body)).toEqual(expected);
      expect(verifyOutbound(request, endpoint.secret)).toEqual(expected);
      expect(request.headers['x-herald-source-x-request-origin']).toBe('forms-app');
      expect(request.headers['x-herald-source-content-type']).toBe('application/x-www-form-urlencoded');
      const forwarded = Object.keys(request.headers).filter((h) => h.startsWith('x-herald-source-'));
      expect(forwarded).not.toContain('x-herald-source-x-api-key');
      expect(forwarded).not.toContain('x-herald-source-cookie');
      expect(forwarded).not.toContain('x-herald-source-host');
      expect(forwarded).not.toContain('x-herald-source-content-length');
      expect((await eventsOf(tenant.id))[0].eventType).toBe('form.submitted');

      expect((await ingest(source.id, body, { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': 'wrong' })).status).toBe(401);
    });

    it('takes XML, JSON arrays and empty bodies; the type defaults to "<source name>.received"', async () => {
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: `${receiver.url}/any` });
      const source = await createSource(tenant.id, { name: 'Legacy ERP!', verifier: { type: 'none' } });

      const xml = '<?xml version="1.0"?><order id="7"/>';
      expect((await ingest(source.id, xml, { 'content-type': 'application/xml' })).status).toBe(200);
      expect((await ingest(source.id, '[1,2]', { 'content-type': 'application/json' })).status).toBe(200);
      expect((await ingest(source.id, undefined)).status).toBe(200);
      const binary = Buffer.from([0xff, 0x00, 0xfe]);
      expect((await ingest(source.id, binary, { 'content-type': 'application/octet-stream' })).status).toBe(200);

      await waitFor('four deliveries', () => receiver.received.length >= 4);
      const bodies = receiver.received.map((r) => JSON.parse(r.body));
      expect(bodies).toEqual(
        expect.arrayContaining([
          { raw: Buffer.from(xml).toString('base64'), contentType: 'application/xml' },
          { raw: Buffer.from('[1,2]').toString('base64'), contentType: 'application/json' },
          { raw: '', contentType: 'application/octet-stream' },
          { raw: binary.toString('base64'), contentType: 'application/octet-stream' },
        ]),
      );
      const events = await eventsOf(tenant.id);
      expect(new Set(events.map((e) => e.eventType))).toEqual(new Set(['Legacy_ERP_.received']));
      // No provider event id: every request is an event of its own.
      expect(events).toHaveLength(4);
    });

    it('answers 413 above the payload limit and 404 for an unknown source', async () => {
      const tenant = await createTenant(api());
      const source = await createSource(tenant.id, { name: 'big', verifier: { type: 'none' } });
      const big = JSON.stringify({ blob: 'x'.repeat(herald.config.maxPayloadBytes) });
      const res = await ingest(source.id, big, { 'content-type': 'application/json' });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(await eventsOf(tenant.id)).toEqual([]);
      expect((await requestsOf(tenant.id, source.id)).data[0]).toMatchObject({ accepted: false, statusCode: 413 });

      const unknown = await ingest('src_01JAAAAAAAAAAAAAAAAAAAAAAA', '{}', { 'content-type': 'application/json' });
      expect(unknown).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'source src_01JAAAAAAAAAAAAAAAAAAAAAAA not found', requestId: expect.any(String) } });
      expect((await ingest('nope', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(404);
    });
  });

  describe('the sources API', () => {
    it('never shows a secret, and keeps sources to their tenant', async () => {
      const tenant = await createTenant(api());
      const other = await createTenant(api());
      const otherKey = await createTenantKey(api(), other.id);
      const ownKey = await createTenantKey(api(), tenant.id);
      const secret = `whsec_${randomBytes(24).toString('hex')}`;
      const created = await api().as(ownKey).post(`/v1/tenants/${tenant.id}/sources`, { name: 'stripe', verifier: { type: 'stripe', secret } });
      expect(created.status).toBe(201);
      const id = created.body.id;

      const responses = [
        created,
        await api().as(ownKey).get(`/v1/tenants/${tenant.id}/sources/${id}`),
        await api().as(ownKey).get(`/v1/tenants/${tenant.id}/sources`),
        await api().as(ownKey).patch(`/v1/tenants/${tenant.id}/sources/${id}`, { name: 'stripe live' }),
      ];
      for (const res of responses) {
        expect(res.status).toBe(res === created ? 201 : 200);
        expect(JSON.stringify(res.body)).not.toContain(secret);
        expect(JSON.stringify(res.body)).not.toContain('secret');
      }
      expect(responses[1].body).toEqual({
        id,
        tenantId: tenant.id,
        name: 'stripe',
        verifier: { type: 'stripe' },
        eventType: null,
        ingestUrl: `${herald.url}/in/${id}`,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const [row] = await herald.sql('SELECT verifier_sealed FROM sources WHERE id = $1', [id]);
      expect(row.verifier_sealed).not.toContain(secret);

      for (const path of [`/v1/tenants/${tenant.id}/sources/${id}`, `/v1/tenants/${tenant.id}/sources/${id}/requests`, `/v1/tenants/${tenant.id}/sources`]) {
        expect((await api().as(otherKey).get(path)).status).toBe(404);
      }
      expect((await api().as(otherKey).get(`/v1/tenants/${other.id}/sources/${id}`)).status).toBe(404);
      expect((await api().as(otherKey).delete(`/v1/tenants/${other.id}/sources/${id}`)).status).toBe(404);
      expect((await api().as(null).get(`/v1/tenants/${tenant.id}/sources`)).status).toBe(401);
    });

    it('derives ingestUrl from the forwarded host and protocol', async () => {
      const tenant = await createTenant(api());
      const res = await api().post(`/v1/tenants/${tenant.id}/sources`, { name: 'gh', verifier: { type: 'github', secret: 's' } }, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.example.com' });
      expect(res.body.ingestUrl).toBe(`https://hooks.example.com/in/${res.body.id}`);
    });

    it('validates the verifier, naming each bad field', async () => {
      const tenant = await createTenant(api());
      const path = `/v1/tenants/${tenant.id}/sources`;
      const fields = async (body: unknown) => {
        const res = await api().post(path, body);
        expect(res.status).toBe(400);
        return [...new Set((res.body.details as { field: string; message: string }[]).map((d) => d.field))].sort();
      };
      expect(await fields({ name: 'h', verifier: { type: 'hmac', secret: '', algorithm: 'md5' } })).toEqual(['verifier.algorithm', 'verifier.encoding', 'verifier.header', 'verifier.secret']);
      expect(await fields({ name: 'h', verifier: { type: 'stripe', secret: 'whsec_x', username: 'u' } })).toEqual(['verifier.username']);
      expect(await fields({ name: 'h', verifier: { type: 'standard-webhooks', secret: 'whsec_not base64!' } })).toEqual(['verifier.secret']);
      expect(await fields({ name: 'h', verifier: { type: 'magic' } })).toEqual(['verifier.type']);
      expect(await fields({ name: '', verifier: { type: 'none', extra: 1 } })).toEqual(['name', 'verifier.extra']);
      expect(await fields({ name: 'h' })).toEqual(['verifier']);
      expect(await fields({ name: 'h', verifier: { type: 'basic', username: 'a:b' }, eventType: 'bad type' })).toEqual(['eventType', 'verifier.password', 'verifier.username']);
      expect((await api().get(path)).body.data).toEqual([]);
    });

    it('updates, lists page by page, and deletes', async () => {
      const tenant = await createTenant(api());
      const a = await createSource(tenant.id, { name: 'a', verifier: { type: 'none' } });
      const b = await createSource(tenant.id, { name: 'b', verifier: { type: 'hmac', secret: 's3cret', header: 'X-Sig', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' } });
      expect(b.verifier).toEqual({ type: 'hmac', header: 'X-Sig', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' });

      const page1 = (await api().get(`/v1/tenants/${tenant.id}/sources?limit=1`)).body;
      expect(page1.data.map((s: any) => s.id)).toEqual([b.id]);
      const page2 = (await api().get(`/v1/tenants/${tenant.id}/sources?limit=1&cursor=${page1.nextCursor}`)).body;
      expect(page2).toEqual({ data: [expect.objectContaining({ id: a.id })], nextCursor: null });

      // Switching the verifier replaces it whole; the old credential stops working at once.
      const body = JSON.stringify({ n: 1 });
      const sign = (secret: string) => `sha512=${createHmac('sha512', secret).update(body).digest('base64')}`;
      expect((await ingest(b.id, body, { 'content-type': 'application/json', 'x-sig': sign('s3cret') })).status).toBe(200);
      const patched = await api().patch(`/v1/tenants/${tenant.id}/sources/${b.id}`, { eventType: 'erp.order', verifier: { type: 'hmac', secret: 'n3w', header: 'X-Sig', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ eventType: 'erp.order', name: 'b' });
      expect((await ingest(b.id, body, { 'content-type': 'application/json', 'x-sig': sign('s3cret') })).status).toBe(401);
      expect((await ingest(b.id, body, { 'content-type': 'application/json', 'x-sig': sign('n3w') })).status).toBe(200);
      expect((await eventsOf(tenant.id)).map((e) => e.eventType)).toEqual(['erp.order', 'b.received']);
      expect((await api().patch(`/v1/tenants/${tenant.id}/sources/${b.id}`, { eventType: null })).body.eventType).toBeNull();
      expect((await api().patch(`/v1/tenants/${tenant.id}/sources/${b.id}`, { verifier: { type: 'hmac' } })).status).toBe(400);

      const log = await requestsOf(tenant.id, b.id, '?limit=2');
      expect(log.data.map((r: any) => r.statusCode)).toEqual([200, 401]);
      const rest = await requestsOf(tenant.id, b.id, `?limit=2&cursor=${log.nextCursor}`);
      expect(rest).toEqual({ data: [expect.objectContaining({ statusCode: 200 })], nextCursor: null });

      expect((await api().delete(`/v1/tenants/${tenant.id}/sources/${b.id}`)).status).toBe(204);
      expect((await api().get(`/v1/tenants/${tenant.id}/sources/${b.id}`)).status).toBe(404);
      expect((await ingest(b.id, body, { 'content-type': 'application/json', 'x-sig': sign('n3w') })).status).toBe(404);
      expect(await herald.sql('SELECT count(*)::int AS n FROM source_requests WHERE source_id = $1', [b.id])).toEqual([{ n: 0 }]);
      // The events it produced stay.
      expect(await eventsOf(tenant.id)).toHaveLength(2);
    });
  });

  describe('the JSON API around it', () => {
    it('still parses JSON, and refuses invalid JSON (400) and other content types (415)', async () => {
      const tenant = await createTenant(api());
      const path = `/v1/tenants/${tenant.id}/sources`;
      const invalid = await api().request('POST', path, '{"name": ', { 'content-type': 'application/json' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/not valid JSON/), details: [{ field: 'body', message: expect.any(String) }] });

      const form = await api().request('POST', path, 'name=x&verifier=none', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(415);
      expect(form.body).toEqual({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: 'content-type must be application/json',
        details: [{ field: 'body', message: 'content-type must be application/json' }],
        requestId: expect.any(String),
      });
      expect((await api().request('POST', path, 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await api().get(path)).body.data).toEqual([]);

      const ok = await api().request('POST', path, JSON.stringify({ name: 'ok', verifier: { type: 'none' } }), { 'content-type': 'application/json; charset=utf-8' });
      expect(ok.status).toBe(201);
    });
  });
});
