import { Webhook } from 'standardwebhooks';
import { verifyStandardWebhooks } from './standard-webhooks.verifier';
import { InboundRequest } from './verifier.types';

// Vector from the Standard Webhooks specification.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const config = { type: 'standard-webhooks' as const, secret: SECRET };
const AT_TIMESTAMP = new Date(TIMESTAMP * 1000);

function request(headers: InboundRequest['headers'], body = PAYLOAD, now = AT_TIMESTAMP): InboundRequest {
  return { headers, rawBody: Buffer.from(body), now };
}

function signed(signature = SIGNATURE, prefix = 'webhook'): InboundRequest['headers'] {
  return { [`${prefix}-id`]: MSG_ID, [`${prefix}-timestamp`]: String(TIMESTAMP), [`${prefix}-signature`]: signature };
}

describe('verifyStandardWebhooks', () => {
  it('accepts the specification vector', () => {
    expect(verifyStandardWebhooks(config, request(signed()))).toEqual({ ok: true, providerEventId: MSG_ID });
  });

  it('accepts a signature made by the standardwebhooks library, and reads the event type from the body', () => {
    const now = new Date('2025-01-02T03:04:05Z');
    const body = JSON.stringify({ type: 'invoice.paid', data: { id: 1 } });
    const signature = new Webhook(SECRET).sign('msg_1', now, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now.getTime() / 1000), 'webhook-signature': signature };
    expect(verifyStandardWebhooks(config, request(headers, body, now))).toEqual({
      ok: true,
      eventType: 'invoice.paid',
      providerEventId: 'msg_1',
    });
  });

  it('accepts the svix-* header variant', () => {
    expect(verifyStandardWebhooks(config, request(signed(SIGNATURE, 'svix'))).ok).toBe(true);
  });

  it('accepts a secret given without the whsec_ prefix', () => {
    const bare = { ...config, secret: SECRET.slice('whsec_'.length) };
    expect(verifyStandardWebhooks(bare, request(signed())).ok).toBe(true);
  });

  it('accepts any matching v1 entry among several, ignoring other versions', () => {
    const header = `v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl v1,Zm9ybWVyIHNlY3JldCBzaWduYXR1cmUxMjM0NTY3OA== ${SIGNATURE} v2,xyz`;
    expect(verifyStandardWebhooks(config, request(signed(header))).ok).toBe(true);
  });

  it('rejects a header of only non-matching entries', () => {
    const header = 'v1,Zm9ybWVyIHNlY3JldCBzaWduYXR1cmUxMjM0NTY3OA== v1a,' + SIGNATURE.slice(3);
    expect(verifyStandardWebhooks(config, request(signed(header)))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('ignores a correct signature labelled with another version', () => {
    expect(verifyStandardWebhooks(config, request(signed('v2' + SIGNATURE.slice(2))))).toEqual({
      ok: false,
      reason: 'no v1 signature in webhook-signature',
    });
  });

  it('rejects a wrong secret', () => {
    const other = { ...config, secret: 'whsec_' + Buffer.from('another secret of 24 byte').toString('base64') };
    expect(verifyStandardWebhooks(other, request(signed()))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an altered body', () => {
    expect(verifyStandardWebhooks(config, request(signed(), '{"test": 2432232315}'))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an altered message id (it is part of the signed content)', () => {
    const headers = { ...signed(), 'webhook-id': 'msg_other' };
    expect(verifyStandardWebhooks(config, request(headers))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it.each([
    ['stale', -301],
    ['from the future', 301],
  ])('rejects a validly signed but %s timestamp, and accepts one at the edge of tolerance', (_, offsetSeconds) => {
    const edge = new Date((TIMESTAMP - Math.sign(offsetSeconds) * 300) * 1000);
    const beyond = new Date((TIMESTAMP - offsetSeconds) * 1000);
    expect(verifyStandardWebhooks(config, request(signed(), PAYLOAD, edge)).ok).toBe(true);
    expect(verifyStandardWebhooks(config, request(signed(), PAYLOAD, beyond))).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('rejects a request missing %s', (name) => {
    const headers = { ...signed(), [name]: undefined };
    expect(verifyStandardWebhooks(config, request(headers))).toEqual({ ok: false, reason: `missing header ${name}` });
  });

  it.each([
    ['a non-numeric timestamp', { 'webhook-timestamp': 'yesterday' }, 'malformed header webhook-timestamp'],
    ['a signature without version', { 'webhook-signature': SIGNATURE.slice(3) }, 'no v1 signature in webhook-signature'],
    ['a signature that is not base64', { 'webhook-signature': 'v1,***' }, 'no v1 signature in webhook-signature'],
  ])('rejects %s without throwing', (_, override, reason) => {
    expect(verifyStandardWebhooks(config, request({ ...signed(), ...override }))).toEqual({ ok: false, reason });
  });

  it('rejects a secret that is not base64', () => {
    expect(verifyStandardWebhooks({ ...config, secret: 'whsec_not base64!' }, request(signed()))).toEqual({
      ok: false,
      reason: 'invalid verifier secret',
    });
  });

  it('leaves the event type out when the body is not JSON or its type is not a string', () => {
    const now = new Date('2025-01-02T03:04:05Z');
    for (const body of ['not json', '{"type": 42}', '["type"]']) {
      const signature = new Webhook(SECRET).sign('m', now, body);
      const headers = { 'webhook-id': 'm', 'webhook-timestamp': String(now.getTime() / 1000), 'webhook-signature': signature };
      expect(verifyStandardWebhooks(config, request(headers, body, now))).toEqual({ ok: true, providerEventId: 'm' });
    }
  });
});
