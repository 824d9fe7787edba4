import { header, reject } from './inbound-request';
import { bytesEqual, decodeBase64, hmac } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

export const SHOPIFY_SENSITIVE_HEADERS = ['x-shopify-hmac-sha256'];

/** https://shopify.dev/docs/apps/build/webhooks/subscribe/https: base64 HMAC-SHA256 of the body. */
export function verifyShopify(config: ConfigOf<'shopify'>, req: InboundRequest): Verification {
  if (!config.secret) return reject('invalid verifier secret');
  const value = header(req, 'x-shopify-hmac-sha256');
  if (!value) return reject('missing header x-shopify-hmac-sha256');
  const signature = decodeBase64(value);
  if (!signature) return reject('malformed header x-shopify-hmac-sha256');

  if (!bytesEqual(signature, hmac('sha256', config.secret, req.rawBody))) return reject('signature mismatch');
  return {
    ok: true,
    eventType: header(req, 'x-shopify-topic'),
    // The webhook id is stable across Shopify's retries; the event id may be shared by several webhooks.
    providerEventId: header(req, 'x-shopify-webhook-id') ?? header(req, 'x-shopify-event-id'),
  };
}
