import { Webhook } from 'standardwebhooks';
import { createPublicKey, verify } from 'node:crypto';
import { generateSecret, generateSecretFor, generateSigningKey, secretProblem, shownSecret, signWebhook } from './webhook-signature';

describe('signWebhook', () => {
  it('reproduces the Standard Webhooks reference vector', () => {
    const signature = signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is accepted by the standardwebhooks verifier', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook([secret], 'evt_1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
  });

  it('signs with every secret during a rotation, each verifiable on its own', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const header = signWebhook([a, b], 'evt_2', ts, '{}');
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    for (const secret of [a, b]) {
      expect(new Webhook(secret).verify('{}', { 'webhook-id': 'evt_2', 'webhook-timestamp': String(ts), 'webhook-signature': header })).toEqual({});
    }
    expect(parts[0]).toBe(signWebhook([a], 'evt_2', ts, '{}'));
  });
});

describe('secretProblem', () => {
  it('accepts generated secrets and refuses malformed ones', () => {
    expect(secretProblem(generateSecret())).toBeNull();
    expect(secretProblem('whsec_' + Buffer.alloc(24).toString('base64'))).toBeNull();
    expect(secretProblem('sk_abc')).toMatch(/whsec_/);
    expect(secretProblem('whsec_!!!!')).toMatch(/base64/);
    expect(secretProblem('whsec_' + Buffer.alloc(8).toString('base64'))).toMatch(/24 to 64/);
    expect(secretProblem('whsec_' + Buffer.alloc(65).toString('base64'))).toMatch(/24 to 64/);
  });
});

describe('ed25519 signing keys (v1a)', () => {
  // Verified as the Standard Webhooks specification describes, with node's crypto, not with signWebhook's own code.
  function verifyV1a(publicKey: string, id: string, timestamp: number, body: string, signature: string): boolean {
    const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64').toString('base64url') } });
    return verify(null, Buffer.from(`${id}.${timestamp}.${body}`), key, Buffer.from(signature.replace(/^v1a,/, ''), 'base64'));
  }

  it('shows the public key, signs with the private one, and only that key verifies', () => {
    const key = generateSigningKey();
    expect(key).toMatch(/^whsk_[A-Za-z0-9+/]{86}==$/);
    const publicKey = shownSecret(key);
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    const signature = signWebhook([key], 'evt_1', 1614265330, '{"a":1}');
    expect(signature).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(verifyV1a(publicKey, 'evt_1', 1614265330, '{"a":1}', signature)).toBe(true);
    expect(verifyV1a(publicKey, 'evt_1', 1614265331, '{"a":1}', signature)).toBe(false);
    expect(verifyV1a(shownSecret(generateSigningKey()), 'evt_1', 1614265330, '{"a":1}', signature)).toBe(false);
  });

  it('mixes v1 and v1a during a rotation from one scheme to the other', () => {
    const hmac = generateSecret();
    const key = generateSecretFor('ed25519');
    const [v1a, v1] = signWebhook([key, hmac], 'evt_2', 1, 'body').split(' ');
    expect(v1).toMatch(/^v1,/);
    expect(verifyV1a(shownSecret(key), 'evt_2', 1, 'body', v1a)).toBe(true);
    expect(shownSecret(hmac)).toBe(hmac);
  });
});
