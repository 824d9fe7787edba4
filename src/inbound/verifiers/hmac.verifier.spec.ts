import { verifyHmac } from './hmac.verifier';
import { ConfigOf, InboundRequest } from './verifier.types';

// Vectors computed independently with `printf '%s' '{"ok":true}' | openssl dgst -<alg> -hmac generic-secret`.
const BODY = '{"ok":true}';
const SHA1_HEX = 'c51822fc38cf291eb19ff503b49ced1ace85e7bb';
const SHA256_HEX = 'bbb3b3c4cbaa75cef706d50357234102354ada79214380626d98fbff276909d2';
const SHA512_BASE64 = 'Dbi4BNYIbOGNuuW1BVEzYM/1jGN+asVXdxAH7IbBKkLDjVAXDQEfEcTRczCqvLssiNYxJ6IpFwbdkn9n/u99vA==';

const sha256Config: ConfigOf<'hmac'> = {
  type: 'hmac',
  secret: 'generic-secret',
  header: 'X-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
};

function request(headers: InboundRequest['headers'], body = BODY): InboundRequest {
  return { headers, rawBody: Buffer.from(body), now: new Date() };
}

describe('verifyHmac', () => {
  it('accepts a prefixed sha256 hex signature in the configured header (looked up lower-case)', () => {
    expect(verifyHmac(sha256Config, request({ 'x-signature': `sha256=${SHA256_HEX}` }))).toEqual({ ok: true });
  });

  it('supports sha1 hex without a prefix', () => {
    const config = { ...sha256Config, algorithm: 'sha1' as const, prefix: undefined };
    expect(verifyHmac(config, request({ 'x-signature': SHA1_HEX })).ok).toBe(true);
  });

  it('supports sha512 base64', () => {
    const config = { ...sha256Config, algorithm: 'sha512' as const, encoding: 'base64' as const, prefix: undefined };
    expect(verifyHmac(config, request({ 'x-signature': SHA512_BASE64 })).ok).toBe(true);
  });

  it('uses the configured algorithm, not whichever the signature looks like', () => {
    const config = { ...sha256Config, algorithm: 'sha512' as const };
    expect(verifyHmac(config, request({ 'x-signature': `sha256=${SHA256_HEX}` }))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('requires the configured prefix', () => {
    for (const value of [SHA256_HEX, `sha512=${SHA256_HEX}`]) {
      expect(verifyHmac(sha256Config, request({ 'x-signature': value }))).toEqual({ ok: false, reason: 'malformed header x-signature' });
    }
  });

  it('rejects a wrong secret', () => {
    const config = { ...sha256Config, secret: 'other-secret' };
    expect(verifyHmac(config, request({ 'x-signature': `sha256=${SHA256_HEX}` }))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an altered body', () => {
    expect(verifyHmac(sha256Config, request({ 'x-signature': `sha256=${SHA256_HEX}` }, '{"ok":false}'))).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('rejects a missing header', () => {
    expect(verifyHmac(sha256Config, request({ 'x-other': `sha256=${SHA256_HEX}` }))).toEqual({ ok: false, reason: 'missing header x-signature' });
  });

  it('rejects a signature in the wrong encoding without throwing', () => {
    expect(verifyHmac(sha256Config, request({ 'x-signature': 'sha256=' + Buffer.from(SHA256_HEX, 'hex').toString('base64') }))).toEqual({
      ok: false,
      reason: 'malformed header x-signature',
    });
  });
});
