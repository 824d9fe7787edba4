import { verifyShopify } from './shopify.verifier';
import { InboundRequest } from './verifier.types';

// Shopify publishes no test vector; this one was computed independently with
// `printf '%s' "$BODY" | openssl dgst -sha256 -hmac shpss_test_secret -binary | base64`.
const SECRET = 'shpss_test_secret';
const BODY = '{"id":820982911946154508,"email":"jon@example.com"}';
const SIGNATURE = 'LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=';
const config = { type: 'shopify' as const, secret: SECRET };

function request(headers: InboundRequest['headers'], body = BODY): InboundRequest {
  return { headers, rawBody: Buffer.from(body), now: new Date() };
}

describe('verifyShopify', () => {
  it('accepts a valid signature, with the topic and webhook id from headers', () => {
    const headers = {
      'x-shopify-hmac-sha256': SIGNATURE,
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-event-id': 'ev-1',
    };
    expect(verifyShopify(config, request(headers))).toEqual({ ok: true, eventType: 'orders/create', providerEventId: 'wh-1' });
  });

  it('falls back to the event id when there is no webhook id', () => {
    const headers = { 'x-shopify-hmac-sha256': SIGNATURE, 'x-shopify-event-id': 'ev-1' };
    expect(verifyShopify(config, request(headers))).toEqual({ ok: true, eventType: undefined, providerEventId: 'ev-1' });
  });

  it('takes the first value of a repeated header', () => {
    expect(verifyShopify(config, request({ 'x-shopify-hmac-sha256': [SIGNATURE, 'AAAA'] })).ok).toBe(true);
  });

  it('rejects a wrong secret', () => {
    const result = verifyShopify({ ...config, secret: 'shpss_other' }, request({ 'x-shopify-hmac-sha256': SIGNATURE }));
    expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an altered body', () => {
    const altered = BODY.replace('jon', 'jan');
    expect(verifyShopify(config, request({ 'x-shopify-hmac-sha256': SIGNATURE }, altered))).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('rejects the right digest in hex, as Shopify sends base64', () => {
    const hex = Buffer.from(SIGNATURE, 'base64').toString('hex');
    expect(verifyShopify(config, request({ 'x-shopify-hmac-sha256': hex })).ok).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(verifyShopify(config, request({ 'x-shopify-topic': 'orders/create' }))).toEqual({
      ok: false,
      reason: 'missing header x-shopify-hmac-sha256',
    });
  });

  it('rejects a header that is not base64 without throwing', () => {
    expect(verifyShopify(config, request({ 'x-shopify-hmac-sha256': 'not base64!' }))).toEqual({
      ok: false,
      reason: 'malformed header x-shopify-hmac-sha256',
    });
  });
});
