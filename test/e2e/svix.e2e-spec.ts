import { ApiException, Svix, Webhook } from 'svix';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';
import { createTenantKey } from '../support/fixtures';

/** The official Svix SDK (npm `svix`) against Herald's /api/v1, with real receivers. */
describe('Svix-compatible API through the svix SDK', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let svix: Svix;
  beforeAll(async () => {
    [herald, receiver] = await Promise.all([startHerald(), TestReceiver.start()]);
    svix = new Svix(herald.api.key!, { serverUrl: herald.url });
  });
  afterAll(async () => {
    await Promise.all([herald.close(), receiver.close()]);
  });

  let n = 0;
  const unique = (what: string) => `${what}-${Date.now().toString(36)}-${++n}`;
  const sdkError = async (call: Promise<unknown>): Promise<ApiException<any>> => {
    const error = await call.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiException);
    return error as ApiException<any>;
  };
  const verify = (secret: string, body: string, headers: Record<string, unknown>) => new Webhook(secret).verify(body, headers as Record<string, string>);

  it('answers health without a key', async () => {
    await expect(new Svix('no-key', { serverUrl: herald.url }).health.get()).resolves.toBeUndefined();
  });

  it('creates applications, getOrCreate returns the same one, lists them with iterators, updates and deletes', async () => {
    const uid = unique('app');
    const app = await svix.application.create({ name: 'Acme', uid, metadata: { plan: 'pro' }, throttleRate: 50 });
    expect(app).toMatchObject({ name: 'Acme', uid, metadata: { plan: 'pro' }, throttleRate: 50 });
    expect(app.id).toMatch(/^tnt_/);
    expect(app.createdAt).toBeInstanceOf(Date);
    expect((await svix.application.getOrCreate({ name: 'Acme again', uid })).id).toBe(app.id);
    expect((await svix.application.get(uid)).id).toBe(app.id);

    const patched = await svix.application.patch(app.id, { name: 'Acme Inc.' });
    expect(patched).toMatchObject({ name: 'Acme Inc.', uid, throttleRate: 50 });
    const replaced = await svix.application.update(uid, { name: 'Acme PUT' });
    expect(replaced).toMatchObject({ name: 'Acme PUT', uid: null, throttleRate: null, metadata: {} });

    const others = (await Promise.all([1, 2, 3].map((i) => svix.application.create({ name: `list ${i}` })))).sort((a, b) => a.id.localeCompare(b.id));
    const seen: string[] = [];
    let iterator: string | null | undefined;
    for (;;) {
      const page = await svix.application.list({ limit: 2, iterator });
      seen.push(...page.data.map((a) => a.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining([app.id, ...others.map((a) => a.id)]));
    const back = await svix.application.list({ limit: 1, iterator: `-${others[1].id}` });
    expect(back.data.map((a) => a.id)).toEqual([others[0].id]);

    await svix.application.delete(others[2].id);
    expect((await sdkError(svix.application.get(others[2].id))).code).toBe(404);
  });

  it('answers errors in Svix shapes: 404 {code, detail}, 422 {detail: [{loc, msg, type}]}, 401', async () => {
    const missing = await sdkError(svix.application.get('tnt_01JD8X3Q6Y4M2N7P9R1S5T8V0W'));
    expect(missing.code).toBe(404);
    expect(missing.body).toEqual({ code: 'not_found', detail: expect.any(String) });
    const app = await svix.application.create({ name: 'errors' });
    const invalid = await sdkError(svix.endpoint.create(app.id, { url: 'not a url' }));
    expect(invalid.code).toBe(422);
    expect(invalid.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'url'], msg: expect.any(String), type: expect.any(String) })]);
    const limit = await sdkError(svix.endpoint.list(app.id, { limit: 251 }));
    expect(limit.code).toBe(422);
    expect(limit.body.detail[0].loc).toEqual(['query', 'limit']);
    expect((await sdkError(new Svix('wrong', { serverUrl: herald.url }).application.list())).code).toBe(401);
  });

  it('scopes a tenant key and a portal token to their application', async () => {
    const mine = await svix.application.create({ name: 'mine', uid: unique('mine') });
    const other = await svix.application.create({ name: 'other' });
    const tenantSvix = new Svix(await createTenantKey(herald.api, mine.id), { serverUrl: herald.url });
    expect((await tenantSvix.application.get(mine.uid!)).id).toBe(mine.id);
    expect((await sdkError(tenantSvix.application.get(other.id))).code).toBe(404);
    expect((await sdkError(tenantSvix.application.list())).code).toBe(403);
    expect((await sdkError(tenantSvix.application.create({ name: 'x' }))).code).toBe(403);

    // The portal link opens Herald's console for the application's customer, and its token is a portal session.
    const portal = await svix.authentication.appPortalAccess(mine.id, { expiry: 600 });
    expect(portal.url).toBe(`${herald.url}/console/#token=${portal.token}`);
    expect((await herald.api.as(portal.token).get('/v1/me')).body).toMatchObject({ kind: 'portal', tenantId: mine.id });
    expect((await herald.api.get(`/v1/tenants/${mine.id}/portal-sessions`)).body.data).toHaveLength(1);
    const portalSvix = new Svix(portal.token, { serverUrl: herald.url });
    const endpoint = await portalSvix.endpoint.create(mine.id, { url: `${receiver.url}/portal` });
    expect((await svix.endpoint.get(mine.id, endpoint.id)).url).toBe(`${receiver.url}/portal`);
    expect((await portalSvix.endpoint.getSecret(mine.id, endpoint.id)).key).toMatch(/^whsec_/);
    expect((await sdkError(portalSvix.endpoint.list(other.id))).code).toBe(404);
    // A portal link never publishes, nor issues more links.
    expect((await sdkError(portalSvix.message.create(mine.id, { eventType: 'x.y', payload: {} }))).code).toBe(403);
    expect((await sdkError(portalSvix.authentication.appPortalAccess(mine.id, {}))).code).toBe(403);

    // Read only: it lists, and changes nothing.
    const readOnly = new Svix((await svix.authentication.appPortalAccess(mine.id, { readOnly: true })).token, { serverUrl: herald.url });
    expect((await readOnly.endpoint.list(mine.id)).data.map((e) => e.id)).toEqual([endpoint.id]);
    expect((await sdkError(readOnly.endpoint.create(mine.id, { url: `${receiver.url}/nope` }))).code).toBe(403);
    expect((await sdkError(readOnly.endpoint.getSecret(mine.id, endpoint.id))).code).toBe(403);
    expect((await svix.endpoint.list(mine.id)).data).toHaveLength(1);

    // expire-all ends every link of the application at once, on both APIs.
    await svix.authentication.expireAll(mine.id, {});
    expect((await sdkError(portalSvix.endpoint.list(mine.id))).code).toBe(401);
    expect((await herald.api.as(portal.token).get('/v1/me')).status).toBe(401);
  });

  it('delivers messages to endpoints with headers and filter types; the SDK Webhook class verifies them; a repeated eventId is 409', async () => {
    const app = await svix.application.create({ name: 'messages', uid: unique('msgs') });
    const invoices = await svix.endpoint.create(app.id, {
      url: `${receiver.url}/invoices`,
      uid: unique('ep'),
      description: 'invoices only',
      filterTypes: ['invoice.paid'],
      headers: { 'x-customer': 'acme' },
      metadata: { team: 'billing' },
    });
    expect(invoices).toMatchObject({ description: 'invoices only', filterTypes: ['invoice.paid'], metadata: { team: 'billing' }, version: 1, disabled: false });
    const all = await svix.endpoint.create(app.id, { url: `${receiver.url}/all` });
    expect((await svix.endpoint.get(app.uid!, invoices.uid!)).id).toBe(invoices.id);
    expect(await svix.endpoint.getHeaders(app.id, invoices.id)).toEqual({ headers: { 'x-customer': 'acme' }, sensitive: [] });
    await svix.endpoint.patchHeaders(app.id, invoices.id, { headers: { 'x-region': 'eu' } });
    expect((await svix.endpoint.getHeaders(app.id, invoices.id)).headers).toEqual({ 'x-customer': 'acme', 'x-region': 'eu' });
    const secret = (await svix.endpoint.getSecret(app.id, invoices.id)).key;
    expect(secret).toMatch(/^whsec_/);
    const listed = await svix.endpoint.list(app.id);
    expect(listed.data.map((e) => e.id)).toEqual([all.id, invoices.id]);

    const eventId = unique('evt');
    const message = await svix.message.create(app.id, { eventType: 'invoice.paid', eventId, payload: { amount: 42, valueOf: 'kept as sent' } });
    expect(message).toMatchObject({ eventType: 'invoice.paid', eventId, payload: { amount: 42, valueOf: 'kept as sent' } });
    expect(message.timestamp).toBeInstanceOf(Date);
    const other = await svix.message.create(app.id, { eventType: 'user.created', payload: { id: 'u1' } });

    const got = (await waitFor('the invoice at the filtered endpoint', () => receiver.forPath('/invoices').find((r) => r.headers['svix-id'] === message.id)))!;
    expect(got.headers['x-customer']).toBe('acme');
    expect(got.headers['x-region']).toBe('eu');
    expect(got.headers['webhook-id']).toBeUndefined();
    expect(got.body).toBe('{"amount":42,"valueOf":"kept as sent"}');
    expect(verify(secret, got.body, got.headers)).toEqual({ amount: 42, valueOf: 'kept as sent' });
    await waitFor('both messages at the unfiltered endpoint', () => receiver.forPath('/all').length >= 2);
    expect(receiver.forPath('/invoices').some((r) => r.headers['svix-id'] === other.id)).toBe(false);

    const duplicate = await sdkError(svix.message.create(app.id, { eventType: 'invoice.paid', eventId, payload: { amount: 43 } }));
    expect(duplicate.code).toBe(409);
    expect(duplicate.body.code).toBe('conflict');
    expect((await svix.message.get(app.id, eventId)).id).toBe(message.id);
    const messages = await svix.message.list(app.id, { eventTypes: ['invoice.paid'] });
    expect(messages.data.map((m) => m.id)).toEqual([message.id]);
  });

  it('lists attempts by endpoint and by message, destinations and attempted messages; resends; expunges content', async () => {
    const app = await svix.application.create({ name: 'attempts' });
    const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/attempts` });
    const message = await svix.message.create(app.id, { eventType: 'order.created', payload: { order: 1 } });
    await waitFor('the first attempt', async () => (await svix.messageAttempt.listByEndpoint(app.id, endpoint.id)).data.length === 1);
    const [attempt] = (await svix.messageAttempt.listByEndpoint(app.id, endpoint.id)).data;
    expect(attempt).toMatchObject({ msgId: message.id, endpointId: endpoint.id, url: `${receiver.url}/attempts`, status: 0, responseStatusCode: 200, triggerType: 0, response: 'ok' });
    expect((await svix.messageAttempt.listByMsg(app.id, message.id)).data.map((a) => a.id)).toEqual([attempt.id]);
    expect((await svix.messageAttempt.get(app.id, message.id, attempt.id)).id).toBe(attempt.id);
    const destinations = await svix.messageAttempt.listAttemptedDestinations(app.id, message.id);
    expect(destinations.data).toEqual([expect.objectContaining({ id: endpoint.id, status: 0, statusText: 'success' })]);
    const attempted = await svix.messageAttempt.listAttemptedMessages(app.id, endpoint.id);
    expect(attempted.data).toEqual([expect.objectContaining({ id: message.id, status: 0, payload: { order: 1 } })]);

    await svix.messageAttempt.resend(app.id, message.id, endpoint.id);
    await waitFor('the manual attempt', async () => (await svix.messageAttempt.listByMsg(app.id, message.id)).data.length === 2);
    const [latest] = (await svix.messageAttempt.listByMsg(app.id, message.id)).data;
    expect(latest.triggerType).toBe(1);
    expect(receiver.forPath('/attempts').filter((r) => r.headers['svix-id'] === message.id)).toHaveLength(2);

    await svix.messageAttempt.expungeContent(app.id, message.id, attempt.id);
    expect((await svix.messageAttempt.get(app.id, message.id, attempt.id)).response).toBe('');
    await svix.message.expungeContent(app.id, message.id);
    expect((await svix.message.get(app.id, message.id)).payload).toEqual({});
  });

  it('recovers failed messages, rotates the secret, and counts them in stats', async () => {
    const app = await svix.application.create({ name: 'recover' });
    const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/flaky` });
    // One attempt only, so a failure is final at once (a native setting Svix's API has no field for).
    expect((await herald.api.patch(`/v1/tenants/${app.id}/endpoints/${endpoint.id}`, { retryPolicy: { maxAttempts: 1 } })).status).toBe(200);
    receiver.replyWith([{ status: 500, body: 'down' }]);
    const since = new Date(Date.now() - 60_000);
    const message = await svix.message.create(app.id, { eventType: 'flaky.event', payload: { n: 1 } });
    await waitFor('the message to fail', async () => (await svix.endpoint.getStats(app.id, endpoint.id)).fail === 1);
    const [failed] = (await svix.messageAttempt.listByMsg(app.id, message.id)).data;
    expect(failed).toMatchObject({ status: 2, statusText: 'fail', responseStatusCode: 500, response: 'down' });

    const oldSecret = (await svix.endpoint.getSecret(app.id, endpoint.id)).key;
    const newSecret = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    await svix.endpoint.rotateSecret(app.id, endpoint.id, { key: newSecret });
    expect((await svix.endpoint.getSecret(app.id, endpoint.id)).key).toBe(newSecret);

    const task = await svix.endpoint.recover(app.id, endpoint.id, { since });
    expect(task).toMatchObject({ status: 'finished', task: 'endpoint.recover' });
    const redelivered = (await waitFor('the recovered message', () => receiver.forPath('/flaky').filter((r) => r.headers['svix-id'] === message.id)[1]))!;
    // Signed with the new secret and, during the overlap, the old one: both verify.
    expect(verify(newSecret, redelivered.body, redelivered.headers)).toEqual({ n: 1 });
    expect(verify(oldSecret, redelivered.body, redelivered.headers)).toEqual({ n: 1 });
    await waitFor('the stats to count the success', async () => (await svix.endpoint.getStats(app.id, endpoint.id)).success === 1);
    expect(await svix.endpoint.getStats(app.id, endpoint.id)).toEqual({ success: 1, pending: 0, sending: 0, fail: 0, canceled: 0 });
  });

  it('manages event types in the catalog and sends an example to one endpoint', async () => {
    const name = unique('svix.type').replace(/-/g, '_');
    const schema = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], examples: [{ id: 'example-1' }] };
    const created = await svix.eventType.create({ name, description: 'from the SDK', schemas: { '1': schema } });
    expect(created).toMatchObject({ name, description: 'from the SDK', deprecated: false, archived: false, schemas: { '1': schema } });
    expect((await herald.api.get(`/v1/event-types/${name}`)).body).toMatchObject({ schema, example: { id: 'example-1' } });
    expect((await sdkError(svix.eventType.create({ name, description: 'again' }))).code).toBe(409);
    expect((await svix.eventType.patch(name, { deprecated: true })).deprecated).toBe(true);
    expect((await svix.eventType.list({ withContent: true })).data.find((t) => t.name === name)?.schemas).toEqual({ '1': schema });

    const app = await svix.application.create({ name: 'examples' });
    const target = await svix.endpoint.create(app.id, { url: `${receiver.url}/example-target`, filterTypes: ['something.else'] });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/example-bystander` });
    const sent = await svix.endpoint.sendExample(app.id, target.id, { eventType: name });
    const got = (await waitFor('the example', () => receiver.forPath('/example-target').find((r) => r.headers['svix-id'] === sent.id)))!;
    expect(JSON.parse(got.body)).toEqual({ id: 'example-1' });
    expect(receiver.forPath('/example-bystander')).toHaveLength(0);

    await svix.eventType.delete(name);
    expect((await svix.eventType.get(name)).archived).toBe(true);
    expect((await svix.eventType.list()).data.map((t) => t.name)).not.toContain(name);
  });

  it('answers a repeated idempotency-key with the first answer, and refuses it for another request', async () => {
    const app = await svix.application.create({ name: 'idempotency' });
    const key = unique('key');
    const body = { eventType: 'idem.test', payload: { a: 1 } };
    const post = (payload: unknown) =>
      fetch(`${herald.url}/api/v1/app/${app.id}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${herald.api.key}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(payload),
      });
    const first = await post(body);
    const again = await post(body);
    expect([first.status, again.status]).toEqual([202, 202]);
    const [a, b] = [(await first.json()) as { id: string }, await again.json()];
    expect(b).toEqual(a);
    const other = await post({ ...body, payload: { a: 2 } });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: 'idempotency_conflict' });
    expect((await herald.sql('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [app.id]))[0].n).toBe(1);
    // The SDK's own key on a created application: one application, whatever the retries.
    const appKey = unique('app-key');
    const created = await svix.application.create({ name: 'keyed' }, { idempotencyKey: appKey });
    expect((await svix.application.create({ name: 'keyed' }, { idempotencyKey: appKey })).id).toBe(created.id);
    // Keys belong to the principal that used them: the same key from the application's own key is a new request.
    const tenantSvix = new Svix(await createTenantKey(herald.api, app.id), { serverUrl: herald.url });
    const own = await tenantSvix.message.create(app.id, body, { idempotencyKey: key });
    expect(own.id).not.toBe(a.id);
  });

  it('sends messages with channels only to endpoints sharing one; creates the application inline', async () => {
    const uid = unique('inline');
    const message = await svix.message.create(uid, { eventType: 'chan.test', payload: { c: 1 }, channels: ['eu'], application: { name: 'Inline', uid } });
    expect(message.channels).toEqual(['eu']);
    const app = await svix.application.get(uid);
    expect(app.name).toBe('Inline');
    const eu = await svix.endpoint.create(uid, { url: `${receiver.url}/chan-eu`, channels: ['eu'] });
    const us = await svix.endpoint.create(uid, { url: `${receiver.url}/chan-us`, channels: ['us'] });
    const any = await svix.endpoint.create(uid, { url: `${receiver.url}/chan-any` });
    expect(eu.channels).toEqual(['eu']);
    const m = await svix.message.create(uid, { eventType: 'chan.test', payload: { c: 2 }, channels: ['eu'] });
    const plain = await svix.message.create(uid, { eventType: 'chan.test', payload: { c: 3 } });
    await waitFor('eu deliveries', () => receiver.forPath('/chan-eu').some((r) => r.headers['svix-id'] === m.id));
    await waitFor('deliveries to the endpoint without channels', () => receiver.forPath('/chan-any').length === 2);
    const destinations = async (id: string) => (await svix.messageAttempt.listAttemptedDestinations(uid, id)).data.map((d) => d.id).sort();
    expect(await destinations(m.id)).toEqual([eu.id, any.id].sort());
    expect(await destinations(plain.id)).toEqual([any.id]);
    expect(receiver.forPath('/chan-us')).toHaveLength(0);
    expect(us.id).toMatch(/^ep_/);
  });
});
