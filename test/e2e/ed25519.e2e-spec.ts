import { createPublicKey, verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { Received, TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/**
 * A receiver's check, written from the Standard Webhooks specification (asymmetric signatures): the public
 * key is `whpk_` + base64 of the raw ed25519 key; each `v1a,<base64>` in webhook-signature is an ed25519
 * signature over `<webhook-id>.<webhook-timestamp>.<body>`. Uses node's crypto only, not Herald's code.
 */
function verifiedBy(publicKey: string, request: Received): string[] {
  const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url') } });
  const signed = Buffer.from(`${String(request.headers['webhook-id'])}.${String(request.headers['webhook-timestamp'])}.${request.body}`);
  return String(request.headers['webhook-signature'])
    .split(' ')
    .filter((s) => s.startsWith('v1a,') && verify(null, signed, key, Buffer.from(s.slice(4), 'base64')));
}

describe('ed25519 signatures (Standard Webhooks v1a)', () => {
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

  it('shows the public key, keeps the private key sealed, and signs v1a that the public key verifies', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, signing: 'ed25519' });
    expect(endpoint.secret).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body.signing).toBe('ed25519');
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret`)).body).toEqual({ secret: endpoint.secret, previousSecretSignsUntil: null });
    const [row] = await herald.sql(`SELECT secret_sealed FROM endpoints WHERE id = $1`, [endpoint.id]);
    expect(row.secret_sealed).toMatch(/^v1\./);
    expect(row.secret_sealed).not.toContain('whsk_');

    await publish(api(), tenant.id, 'invoice.paid', { amount: 1 });
    await waitFor('receipt', () => receiver.received.length === 1);
    const request = receiver.received[0];
    expect(String(request.headers['webhook-signature'])).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(verifiedBy(endpoint.secret, request)).toHaveLength(1);
    const other = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/other`, signing: 'ed25519', eventTypes: ['none'] });
    expect(verifiedBy(other.secret, request)).toHaveLength(0);
    expect(verifiedBy(endpoint.secret, { ...request, body: request.body.replace('1', '2') })).toHaveLength(0);
  });

  it('signs with both keys for 24 h after a rotation', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url, signing: 'ed25519' });
    const rotated = (await api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret/rotate`)).body.secret;
    expect(rotated).toMatch(/^whpk_/);
    expect(rotated).not.toBe(endpoint.secret);

    await publish(api(), tenant.id, 'a.b', {});
    await waitFor('receipt', () => receiver.received.length === 1);
    const request = receiver.received[0];
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiedBy(rotated, request)).toHaveLength(1);
    expect(verifiedBy(endpoint.secret, request)).toHaveLength(1);
  });

  it('moves an HMAC endpoint to ed25519 as a rotation: v1 and v1a side by side', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: receiver.url });
    expect((await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { signing: 'ed25519' })).body.signing).toBe('ed25519');
    const publicKey = (await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret`)).body.secret;
    expect(publicKey).toMatch(/^whpk_/);

    await publish(api(), tenant.id, 'a.b', { moved: true });
    await waitFor('receipt', () => receiver.received.length === 1);
    const request = receiver.received[0];
    expect(verifiedBy(publicKey, request)).toHaveLength(1);
    // The old HMAC secret still verifies (the standardwebhooks library ignores v1a entries it cannot check).
    expect(new Webhook(endpoint.secret).verify(request.body, request.headers as Record<string, string>)).toEqual({ moved: true });
  });

  it('refuses a given secret or an unknown scheme', async () => {
    const tenant = await createTenant(api());
    const withSecret = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, signing: 'ed25519', secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` });
    expect(withSecret.status).toBe(400);
    expect(withSecret.body.details[0].field).toBe('secret');
    const unknown = await api().post(`/v1/tenants/${tenant.id}/endpoints`, { url: receiver.url, signing: 'rsa' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details[0].field).toBe('signing');
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints`)).body.data).toHaveLength(0);
  });
});
