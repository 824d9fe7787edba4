import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Svix, Webhook } from 'svix';
import { importFromSvix } from '../../src/cli/svix-import';
import { ADMIN_KEY, Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/** `herald import svix` from one Herald's /api/v1 (standing in for a Svix server) into another. */
describe('herald import svix', () => {
  let source: Herald;
  let target: Herald;
  let receiver: TestReceiver;
  let from: Svix;
  let to: Svix;
  beforeAll(async () => {
    [source, target, receiver] = await Promise.all([startHerald(), startHerald(), TestReceiver.start()]);
    from = new Svix(ADMIN_KEY, { serverUrl: source.url });
    to = new Svix(ADMIN_KEY, { serverUrl: target.url });
  });
  afterAll(async () => {
    await Promise.all([source.close(), target.close(), receiver.close()]);
  });

  const count = async (table: string) => Number((await target.sql(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const run = async () => {
    const lines: string[] = [];
    const summary = await importFromSvix({ serverUrl: source.url, token: ADMIN_KEY, heraldUrl: target.url, heraldToken: ADMIN_KEY, log: (l) => lines.push(l) });
    return { summary, lines };
  };

  it('copies every application, endpoint, header, secret and event type once; a second run adds nothing; deliveries verify with the original secret', async () => {
    await from.eventType.create({ name: 'invoice.paid', description: 'an invoice was paid', schemas: { '1': { type: 'object', examples: [{ id: 'in_1' }] } } });
    await from.eventType.create({ name: 'user.created', description: 'a user signed up' });
    const acme = await from.application.create({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' }, throttleRate: 20 });
    const globex = await from.application.create({ name: 'Globex' });
    const billing = await from.endpoint.create(acme.id, {
      url: `${receiver.url}/acme-billing`,
      uid: 'billing',
      description: 'billing',
      filterTypes: ['invoice.paid'],
      channels: ['eu'],
      headers: { 'x-api-key': 'abc' },
      throttleRate: 5,
    });
    const audit = await from.endpoint.create(acme.id, { url: `${receiver.url}/acme-audit`, disabled: true });
    const globexHook = await from.endpoint.create(globex.id, { url: `${receiver.url}/globex` });
    const billingSecret = (await from.endpoint.getSecret(acme.id, billing.id)).key;

    const first = await run();
    expect(first.summary).toEqual({ applications: { created: 2, updated: 0 }, endpoints: { created: 3, updated: 0 }, eventTypes: { created: 2, updated: 0 } });
    expect(first.lines.filter((l) => l.startsWith('application '))).toHaveLength(2);
    expect(first.lines[first.lines.length - 1]).toMatch(/^done: applications 2 created/);

    const copy = await to.application.get('acme');
    expect(copy).toMatchObject({ name: 'Acme', metadata: { plan: 'pro' }, throttleRate: 20 });
    expect((await to.application.get(`svix-${globex.id}`)).name).toBe('Globex');
    const copiedBilling = await to.endpoint.get('acme', 'billing');
    expect(copiedBilling).toMatchObject({ url: billing.url, description: 'billing', filterTypes: ['invoice.paid'], channels: ['eu'], throttleRate: 5, disabled: false });
    expect((await to.endpoint.getHeaders('acme', 'billing')).headers).toEqual({ 'x-api-key': 'abc' });
    expect((await to.endpoint.getSecret('acme', 'billing')).key).toBe(billingSecret);
    expect((await to.endpoint.get('acme', `svix-${audit.id}`)).disabled).toBe(true);
    expect((await to.endpoint.get(`svix-${globex.id}`, `svix-${globexHook.id}`)).url).toBe(globexHook.url);
    expect((await to.eventType.get('invoice.paid')).schemas).toEqual({ '1': { type: 'object', examples: [{ id: 'in_1' }] } });
    const before = { tenants: await count('tenants'), endpoints: await count('endpoints'), types: await count('event_types') };
    expect(before).toEqual({ tenants: 2, endpoints: 3, types: 2 });

    // The second run goes through the command line itself (dist/cli.js, built before the tests).
    const cli = spawn(process.execPath, [join(__dirname, '../../dist/cli.js'), 'import', 'svix', '--server-url', source.url, '--token', ADMIN_KEY, '--herald-url', target.url, '--herald-token', ADMIN_KEY]);
    let output = '';
    cli.stdout.on('data', (d) => (output += d));
    cli.stderr.on('data', (d) => (output += d));
    const [code] = await once(cli, 'exit');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('done: applications 0 created, 2 updated; endpoints 0 created, 3 updated; event types 0 created, 2 updated') });
    expect(output).not.toContain(ADMIN_KEY);
    expect({ tenants: await count('tenants'), endpoints: await count('endpoints'), types: await count('event_types') }).toEqual(before);
    expect((await to.endpoint.getSecret('acme', 'billing')).key).toBe(billingSecret);

    const message = await to.message.create('acme', { eventType: 'invoice.paid', payload: { id: 'in_2' }, channels: ['eu'] });
    const got = (await waitFor('the delivery to the imported endpoint', () => receiver.forPath('/acme-billing').find((r) => r.headers['svix-id'] === message.id)))!;
    expect(new Webhook(billingSecret).verify(got.body, got.headers as Record<string, string>)).toEqual({ id: 'in_2' });
  });

  it('explains its usage and fails without the required options', async () => {
    const { main } = await import('../../src/cli');
    const errors: string[] = [];
    expect(await main(['import', 'svix', '--server-url', source.url], () => undefined, (l) => errors.push(l))).toBe(2);
    expect(errors.join('\n')).toMatch(/missing --token, --herald-url, --herald-token/);
    expect(await main(['export'], () => undefined, (l) => errors.push(l))).toBe(2);
    expect(await main(['import', 'svix', '--server-url', source.url, '--token', 'wrong', '--herald-url', target.url, '--herald-token', ADMIN_KEY], () => undefined, (l) => errors.push(l))).toBe(1);
    expect(errors[errors.length - 1]).toMatch(/import failed: HTTP 401/);
  });
});
