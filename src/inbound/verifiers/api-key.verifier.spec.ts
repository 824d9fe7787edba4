import { verifyApiKey } from './api-key.verifier';
import { InboundRequest } from './verifier.types';

const config = { type: 'api-key' as const, header: 'X-Api-Key', value: 'k_live_0123456789' };

function request(headers: InboundRequest['headers']): InboundRequest {
  return { headers, rawBody: Buffer.from('{}'), now: new Date() };
}

describe('verifyApiKey', () => {
  it('accepts the configured value in the configured header (looked up lower-case)', () => {
    expect(verifyApiKey(config, request({ 'x-api-key': 'k_live_0123456789' }))).toEqual({ ok: true });
  });

  it('takes the first value of a repeated header', () => {
    expect(verifyApiKey(config, request({ 'x-api-key': ['k_live_0123456789', 'other'] }))).toEqual({ ok: true });
  });

  it.each([
    ['a different key', 'k_live_0123456780'],
    ['a prefix of the key', 'k_live_01234'],
    ['the key with a suffix', 'k_live_0123456789x'],
    ['a different case', 'K_LIVE_0123456789'],
  ])('rejects %s', (_, value) => {
    expect(verifyApiKey(config, request({ 'x-api-key': value }))).toEqual({ ok: false, reason: 'invalid api key' });
  });

  it('rejects a missing header, even with the key in another header', () => {
    expect(verifyApiKey(config, request({ authorization: 'k_live_0123456789' }))).toEqual({ ok: false, reason: 'missing header x-api-key' });
  });

  it('rejects everything when no value is configured', () => {
    expect(verifyApiKey({ ...config, value: '' }, request({ 'x-api-key': '' }))).toEqual({ ok: false, reason: 'invalid verifier credentials' });
  });
});
