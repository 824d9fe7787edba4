import { verifyGithub } from './github.verifier';
import { InboundRequest } from './verifier.types';

// GitHub's published vector (docs: "Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';
const SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
const config = { type: 'github' as const, secret: SECRET };

function request(headers: InboundRequest['headers'], body = BODY): InboundRequest {
  return { headers, rawBody: Buffer.from(body), now: new Date() };
}

describe('verifyGithub', () => {
  const headers = { 'x-hub-signature-256': SIGNATURE, 'x-github-event': 'push', 'x-github-delivery': 'd-1' };

  it('accepts the documented vector and reads the event type and delivery id from headers', () => {
    expect(verifyGithub(config, request(headers))).toEqual({ ok: true, eventType: 'push', providerEventId: 'd-1' });
  });

  it('takes the first value of a repeated header', () => {
    expect(verifyGithub(config, request({ 'x-hub-signature-256': [SIGNATURE, 'sha256=00'] })).ok).toBe(true);
  });

  it('accepts upper-case hex', () => {
    const upper = 'sha256=' + SIGNATURE.slice(7).toUpperCase();
    expect(verifyGithub(config, request({ 'x-hub-signature-256': upper })).ok).toBe(true);
  });

  it('rejects a wrong secret', () => {
    expect(verifyGithub({ ...config, secret: 'not the secret' }, request(headers))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an altered body', () => {
    expect(verifyGithub(config, request(headers, 'Hello, World?'))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a missing signature header, even with the legacy sha1 header present', () => {
    expect(verifyGithub(config, request({ 'x-hub-signature': 'sha1=abc' }))).toEqual({
      ok: false,
      reason: 'missing header x-hub-signature-256',
    });
  });

  it.each([
    ['no prefix', SIGNATURE.slice(7), 'malformed header x-hub-signature-256'],
    ['wrong prefix', 'sha1=' + SIGNATURE.slice(7), 'malformed header x-hub-signature-256'],
    ['not hex', 'sha256=zz' + SIGNATURE.slice(9), 'malformed header x-hub-signature-256'],
    ['truncated', SIGNATURE.slice(0, -2), 'signature mismatch'],
  ])('rejects a malformed header (%s) without throwing', (_, value, reason) => {
    expect(verifyGithub(config, request({ 'x-hub-signature-256': value }))).toEqual({ ok: false, reason });
  });

  it('rejects an empty secret, which anyone could sign with', () => {
    const empty = 'sha256=' + '2bbcfa9524f3218c7a34b30e6936f8b1a4516cb097f1a85a1c7d98b5977ec769';
    expect(verifyGithub({ ...config, secret: '' }, request({ 'x-hub-signature-256': empty }))).toEqual({
      ok: false,
      reason: 'invalid verifier secret',
    });
  });
});
