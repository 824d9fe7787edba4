import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { FAST_RETRY, createEndpoint, createTenant, createTenantKey, publish } from '../support/fixtures';
import { ADMIN_KEY, ApiClient, Herald, spawnHerald, startHerald, testEnvironment } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/** The random part of a `whsec_` secret: what would leak if only the prefix were stripped. */
const secretBytes = (secret: string) => secret.replace(/^whsec_/, '');

describe('security', () => {
  describe('secrets at rest', () => {
    let herald: Herald;
    beforeAll(async () => {
      herald = await startHerald();
    });
    afterAll(async () => {
      await herald.close();
    });

    it('keeps no endpoint secret in clear in the endpoints table, and only SHA-256 hashes of API keys', async () => {
      const api = herald.api;
      const tenant = await createTenant(api);
      const given = `whsec_${Buffer.from('a very secret value given on create!').toString('base64')}`;
      const endpoints = [await createEndpoint(api, tenant.id, { url: 'https://example.com/a', secret: given }), await createEndpoint(api, tenant.id, { url: 'https://example.com/b' })];
      const rotated = await api.post(`/v1/tenants/${tenant.id}/endpoints/${endpoints[1].id}/secret/rotate`);
      expect(rotated.status).toBe(200);
      const secrets = [given, endpoints[1].secret, rotated.body.secret];
      const key = await createTenantKey(api, tenant.id);

      const rows = await herald.sql<{ row: string }>(`SELECT row_to_json(e)::text AS row FROM endpoints e WHERE tenant_id = $1`, [tenant.id]);
      expect(rows).toHaveLength(2);
      const dump = rows.map((r) => r.row).join('\n');
      for (const secret of secrets) {
        expect(dump).not.toContain(secretBytes(secret));
        expect(dump).not.toContain(Buffer.from(secretBytes(secret), 'base64').toString('hex'));
      }
      expect(dump).toContain('v1.'); // sealed (AES-256-GCM: v1.<iv>.<tag>.<ciphertext>)

      const keys = await herald.sql<{ row: string; key_hash: string }>(`SELECT row_to_json(k)::text AS row, k.key_hash FROM api_keys k WHERE tenant_id = $1`, [tenant.id]);
      expect(keys).toHaveLength(1);
      expect(keys[0].row).not.toContain(key);
      expect(keys[0].row).not.toContain(key.replace(/^hk_/, ''));
      expect(keys[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    });
  });

  describe('logs', () => {
    it('never contain the admin key, tenant keys, endpoint secrets or payloads, even at debug level', async () => {
      const { env, dispose } = await testEnvironment({ HERALD_LOG_LEVEL: 'debug' });
      const herald = await spawnHerald(env);
      const receiver = await TestReceiver.start();
      try {
        const admin = new ApiClient(herald.url);
        const tenant = await createTenant(admin);
        const key = await createTenantKey(admin, tenant.id);
        const api = admin.as(key);
        const good = await createEndpoint(api, tenant.id, { url: `${receiver.url}/good`, eventTypes: ['ok.*'] });
        const failing = await createEndpoint(api, tenant.id, { url: `${receiver.url}/failing`, eventTypes: ['bad.*'], retryPolicy: { ...FAST_RETRY, maxAttempts: 2, initialDelayMs: 100 } });
        const rotated = (await api.post(`/v1/tenants/${tenant.id}/endpoints/${good.id}/secret/rotate`)).body.secret as string;
        const shown = (await api.get(`/v1/tenants/${tenant.id}/endpoints/${failing.id}/secret`)).body.secret as string;
        receiver.replyWith([], { status: 200 });

        const marker = `PAYLOAD-MARKER-${Date.now()}`;
        const ok = await publish(api, tenant.id, 'ok.one', { marker, card: '4242424242424242' });
        const batch = await api.post(`/v1/tenants/${tenant.id}/events/batch`, { events: [{ eventType: 'ok.two', payload: { marker } }] });
        expect(batch.status).toBe(202);
        await waitFor('deliveries', () => receiver.forPath('/good').length >= 2);

        // A failing endpoint: attempts fail (500 with the marker echoed in the body), go dead, then a resend succeeds.
        receiver.always({ status: 500, body: `echo ${marker}` });
        const bad = await publish(api, tenant.id, 'bad.one', { marker });
        const deliveries = async () => (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${bad.id}`)).body.data;
        const [dead] = await waitFor('dead letter', async () => {
          const list = await deliveries();
          return list[0]?.status === 'dead' && list;
        });
        receiver.always({ status: 200 });
        expect((await api.post(`/v1/tenants/${tenant.id}/deliveries/${dead.id}/resend`)).status).toBe(202);
        await waitFor('resent', async () => (await deliveries())[0]?.status === 'succeeded');

        // Rejected requests that carry secrets and the marker in their bodies, and a wrong key.
        expect((await api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'bad type!', payload: { marker } })).status).toBe(400);
        expect((await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: `${receiver.url}/x`, secret: `${rotated}!`, marker })).status).toBe(400);
        expect((await api.post(`/v1/tenants/${tenant.id}/events`, `{"eventType":"x","payload":{"marker":"${marker}"`)).status).toBe(400);
        expect((await admin.as(`${key}x`).get(`/v1/tenants/${tenant.id}/events`)).status).toBe(401);
        expect(ok.id).toMatch(/^evt_/);
        // Everything it wrote, to the last line.
        await herald.stop();

        const logs = herald.output();
        expect(logs.length).toBeGreaterThan(0);
        expect(logs).toContain('"level":"info"'); // verbose logging was on
        const forbidden: [string, string][] = [
          ['admin key', ADMIN_KEY],
          ['tenant key', key],
          ['tenant key body', key.replace(/^hk_/, '')],
          ['payload marker', marker],
          ['card number in a payload', '4242424242424242'],
        ];
        for (const [name, secret] of [['endpoint secret', good.secret], ['rotated secret', rotated], ['secret', shown]]) {
          forbidden.push([name, secret], [`${name} bytes`, secretBytes(secret)]);
        }
        for (const [name, value] of forbidden) {
          if (logs.includes(value)) throw new Error(`the logs contain the ${name}`);
        }
      } finally {
        await herald.stop('SIGKILL');
        await receiver.close();
        await dispose();
      }
    });
  });

  describe('outbound requests to loopback, with HERALD_ALLOW_PRIVATE_NETWORKS empty', () => {
    let herald: Herald;
    let receiver: TestReceiver;
    beforeAll(async () => {
      herald = await startHerald({ HERALD_ALLOW_PRIVATE_NETWORKS: '' });
      receiver = await TestReceiver.start();
    });
    afterAll(async () => {
      await receiver.close();
      await herald.close();
    });

    const port = () => new URL(receiver.url).port;

    it('refuses every DNS spelling of loopback at connection time with blocked_address; the receiver sees nothing', async () => {
      const api = herald.api;
      const tenant = await createTenant(api);
      const hosts = ['localhost', 'LOCALHOST', 'localhost.', 'LocalHost.', 'vm', 'runsc'];
      for (const host of hosts) await createEndpoint(api, tenant.id, { url: `http://${host}:${port()}/${host}`, retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
      const event = await publish(api, tenant.id, 'probe.loopback', { probe: true });
      expect(event.deliveryCount).toBe(hosts.length);
      const list = await waitFor('all dead', async () => {
        const data = (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data;
        return data.length === hosts.length && data.every((d: any) => d.status === 'dead') && data;
      });
      const urls = new Map((await api.get(`/v1/tenants/${tenant.id}/endpoints?limit=250`)).body.data.map((e: any) => [e.id, new URL(e.url).hostname]));
      for (const d of list) {
        const host = urls.get(d.endpointId) as string;
        // A name this machine cannot resolve fails with dns (nothing to connect to); every one it resolves is blocked.
        const resolves = await lookup(host).then(() => true, () => false);
        const [attempt] = (await api.get(`/v1/tenants/${tenant.id}/deliveries/${d.id}/attempts`)).body.data;
        expect({ host, error: attempt.error, statusCode: attempt.statusCode }).toEqual({ host, error: resolves ? 'blocked_address' : 'dns', statusCode: null });
      }
      expect(list.filter((d: any) => d.lastError === 'blocked_address').length).toBeGreaterThanOrEqual(3);
      expect(receiver.received).toHaveLength(0);
    });

    const literals = ['127.0.0.1', '127.1', '127.0.0.2', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '0.0.0.0', '[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::]', '169.254.169.254', '10.0.0.1', '192.168.1.1'];

    it('never reaches a loopback or private IP literal, whatever it is spelled like', async () => {
      const api = herald.api;
      const tenant = await createTenant(api);
      const accepted: string[] = [];
      const refused: string[] = [];
      for (const host of literals) {
        const res = await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: `http://${host}:${port()}/x`, timeoutMs: 500, retryPolicy: { ...FAST_RETRY, maxAttempts: 1 } });
        if (res.status === 201) accepted.push(host);
        else {
          expect(res.status).toBe(400);
          expect(res.body.details.map((d: any) => d.field)).toContain('url');
          refused.push(host);
        }
      }
      if (accepted.length) {
        const event = await publish(api, tenant.id, 'probe.literal', {});
        const list = await waitFor('all dead', async () => {
          const data = (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data;
          return data.length === accepted.length && data.every((d: any) => d.status === 'dead') && data;
        });
        for (const d of list) expect(d.lastError).toBe('blocked_address');
      }
      console.log(`IP literals refused at registration: ${refused.join(' ') || 'none'}; accepted, then blocked at connection: ${accepted.join(' ') || 'none'}`);
      expect(receiver.received).toHaveLength(0);
    });

    // An IP literal is known to be non-public at registration: refused then, with 400 naming `url`.
    it('refuses loopback and private IP literals at registration with 400 naming url', async () => {
      const api = herald.api;
      const tenant = await createTenant(api);
      for (const host of literals) {
        const res = await api.post(`/v1/tenants/${tenant.id}/endpoints`, { url: `http://${host}/x` });
        expect([host, res.status]).toEqual([host, 400]);
        expect(res.body.details.map((d: any) => d.field)).toContain('url');
      }
    });
  });
});
