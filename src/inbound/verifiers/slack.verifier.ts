import { header, isObject, jsonObject, reject, stringField } from './inbound-request';
import { bytesEqual, decodeHex, hmac, parseUnixSeconds, withinTolerance } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

export const SLACK_SENSITIVE_HEADERS = ['x-slack-signature'];

const PREFIX = 'v0=';

/** https://api.slack.com/authentication/verifying-requests-from-slack: `v0=` hex HMAC-SHA256 of `v0:ts:body`. */
export function verifySlack(config: ConfigOf<'slack'>, req: InboundRequest): Verification {
  if (!config.secret) return reject('invalid verifier secret');
  const value = header(req, 'x-slack-signature');
  const timestampHeader = header(req, 'x-slack-request-timestamp');
  if (!value) return reject('missing header x-slack-signature');
  if (!timestampHeader) return reject('missing header x-slack-request-timestamp');
  const timestamp = parseUnixSeconds(timestampHeader);
  if (timestamp === undefined) return reject('malformed header x-slack-request-timestamp');
  const signature = value.startsWith(PREFIX) ? decodeHex(value.slice(PREFIX.length)) : undefined;
  if (!signature) return reject('malformed header x-slack-signature');

  const expected = hmac('sha256', config.secret, `v0:${timestampHeader}:`, req.rawBody);
  if (!bytesEqual(signature, expected)) return reject('signature mismatch');
  if (!withinTolerance(timestamp, req.now)) return reject('timestamp outside tolerance');

  // Events API bodies are JSON ({type: 'event_callback', event: {type}}); slash commands are form-encoded.
  const body = jsonObject(req.rawBody);
  const event = isObject(body?.event) ? body.event : undefined;
  return {
    ok: true,
    eventType: stringField(event, 'type') ?? stringField(body, 'type'),
    providerEventId: stringField(body, 'event_id'),
  };
}
