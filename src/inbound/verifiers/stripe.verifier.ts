import { header, jsonObject, reject, stringField } from './inbound-request';
import { bytesEqual, decodeHex, hmac, parseUnixSeconds, withinTolerance } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

export const STRIPE_SENSITIVE_HEADERS = ['stripe-signature'];

/** `t=<unix>,v1=<hex>,v1=<hex>,…`; other schemes (v0 test-mode signatures) are ignored. */
function parseSignatureHeader(value: string): { timestamp?: string; signatures: string[] } {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const val = item.slice(eq + 1).trim();
    if (key === 't' && timestamp === undefined) timestamp = val;
    if (key === 'v1') signatures.push(val);
  }
  return { timestamp, signatures };
}

/** https://docs.stripe.com/webhooks#verify-manually: HMAC-SHA256 hex of `t.body`, keyed with the whole `whsec_…` string. */
export function verifyStripe(config: ConfigOf<'stripe'>, req: InboundRequest): Verification {
  if (!config.secret) return reject('invalid verifier secret');
  const value = header(req, 'stripe-signature');
  if (!value) return reject('missing header stripe-signature');

  const parsed = parseSignatureHeader(value);
  const timestamp = parsed.timestamp === undefined ? undefined : parseUnixSeconds(parsed.timestamp);
  if (timestamp === undefined) return reject('malformed header stripe-signature');
  const candidates = parsed.signatures.map(decodeHex).filter((sig): sig is Buffer => sig !== undefined);
  if (candidates.length === 0) return reject('no v1 signature in stripe-signature');

  const expected = hmac('sha256', config.secret, `${parsed.timestamp}.`, req.rawBody);
  if (!candidates.some((sig) => bytesEqual(sig, expected))) return reject('signature mismatch');
  if (!withinTolerance(timestamp, req.now)) return reject('timestamp outside tolerance');

  const body = jsonObject(req.rawBody);
  return { ok: true, eventType: stringField(body, 'type'), providerEventId: stringField(body, 'id') };
}
