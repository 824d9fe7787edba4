import { header, reject } from './inbound-request';
import { bytesEqual, decodeHex, hmac } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

/** The legacy SHA-1 header is not verified, but it is still derived from the secret: never forward it. */
export const GITHUB_SENSITIVE_HEADERS = ['x-hub-signature-256', 'x-hub-signature'];

const PREFIX = 'sha256=';

/** https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries */
export function verifyGithub(config: ConfigOf<'github'>, req: InboundRequest): Verification {
  if (!config.secret) return reject('invalid verifier secret');
  const value = header(req, 'x-hub-signature-256');
  if (!value) return reject('missing header x-hub-signature-256');
  const signature = value.startsWith(PREFIX) ? decodeHex(value.slice(PREFIX.length)) : undefined;
  if (!signature) return reject('malformed header x-hub-signature-256');

  if (!bytesEqual(signature, hmac('sha256', config.secret, req.rawBody))) return reject('signature mismatch');
  return { ok: true, eventType: header(req, 'x-github-event'), providerEventId: header(req, 'x-github-delivery') };
}
