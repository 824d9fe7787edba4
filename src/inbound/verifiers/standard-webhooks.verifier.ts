import { header, jsonObject, reject, stringField } from './inbound-request';
import { bytesEqual, decodeBase64, hmac, parseUnixSeconds, withinTolerance } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

export const STANDARD_WEBHOOKS_SENSITIVE_HEADERS = ['webhook-signature', 'svix-signature'];

const SECRET_PREFIX = 'whsec_';

const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' };
const SVIX_HEADERS = { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' };

/** Svix sends the same scheme under svix-* names; use them only when no webhook-* header is present. */
function headerNames(req: InboundRequest): typeof WEBHOOK_HEADERS {
  const carries = (names: typeof WEBHOOK_HEADERS) => Object.values(names).some((name) => header(req, name) !== undefined);
  return !carries(WEBHOOK_HEADERS) && carries(SVIX_HEADERS) ? SVIX_HEADERS : WEBHOOK_HEADERS;
}

/** https://www.standardwebhooks.com: HMAC-SHA256 of `id.timestamp.body`, keyed with the decoded secret. */
export function verifyStandardWebhooks(config: ConfigOf<'standard-webhooks'>, req: InboundRequest): Verification {
  const secret = config.secret.startsWith(SECRET_PREFIX) ? config.secret.slice(SECRET_PREFIX.length) : config.secret;
  const key = decodeBase64(secret);
  if (!key) return reject('invalid verifier secret');

  const names = headerNames(req);
  const id = header(req, names.id);
  const timestampHeader = header(req, names.timestamp);
  const signatureHeader = header(req, names.signature);
  if (!id) return reject(`missing header ${names.id}`);
  if (!timestampHeader) return reject(`missing header ${names.timestamp}`);
  if (!signatureHeader) return reject(`missing header ${names.signature}`);
  const timestamp = parseUnixSeconds(timestampHeader);
  if (timestamp === undefined) return reject(`malformed header ${names.timestamp}`);

  // Several space-separated `version,signature` entries (secret rotation); only v1 is HMAC, others are ignored.
  const candidates = signatureHeader
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => decodeBase64(entry.slice(3)))
    .filter((sig): sig is Buffer => sig !== undefined);
  if (candidates.length === 0) return reject(`no v1 signature in ${names.signature}`);

  const expected = hmac('sha256', key, `${id}.${timestampHeader}.`, req.rawBody);
  if (!candidates.some((sig) => bytesEqual(sig, expected))) return reject('signature mismatch');
  // Checked after the signature so that this reason means "authentic but replayed or skewed".
  if (!withinTolerance(timestamp, req.now)) return reject('timestamp outside tolerance');

  return { ok: true, eventType: stringField(jsonObject(req.rawBody), 'type'), providerEventId: id };
}
