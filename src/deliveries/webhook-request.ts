import { Endpoint } from '../endpoints/endpoint.entity';
import { signWebhook } from './signature';

/** What an attempt sends, before the sender adds nothing but the transport. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What the request is built from: the event as stored, the endpoint as cached, the secrets that sign now. */
export interface WebhookRequestInput {
  endpoint: Pick<Endpoint, 'url' | 'headers' | 'timeoutMs'> & Partial<Pick<Endpoint, 'sendTraceparent' | 'signatureHeaders'>>;
  eventId: string;
  /** The stored payload: the exact bytes signed and sent. */
  payload: string;
  sourceHeaders: Record<string, string> | null;
  signingSecrets: readonly string[];
  userAgent: string;
  startedAt: Date;
  /** The attempt's W3C traceparent; sent only to an endpoint that opted in (sendTraceparent). */
  traceparent?: string | null;
}

/**
 * The request a receiver gets (API.md, "The request a receiver gets"): the sender's own headers as
 * `x-herald-source-*`, the endpoint's headers, then Herald's, which no endpoint header may override.
 * Pure: the same input gives the same request.
 */
export function buildWebhookRequest(input: WebhookRequestInput): WebhookRequest {
  const timestamp = Math.floor(input.startedAt.getTime() / 1000);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.sourceHeaders ?? {})) headers[`x-herald-source-${name}`] = value;
  // Receivers written against Svix read svix-id / svix-timestamp / svix-signature: same values, other names.
  const prefix = input.endpoint.signatureHeaders === 'svix' ? 'svix' : 'webhook';
  Object.assign(headers, input.endpoint.headers, {
    'content-type': 'application/json',
    'user-agent': input.userAgent,
    [`${prefix}-id`]: input.eventId,
    [`${prefix}-timestamp`]: String(timestamp),
    [`${prefix}-signature`]: signWebhook(input.signingSecrets, input.eventId, timestamp, input.payload),
  });
  if (input.endpoint.sendTraceparent && input.traceparent) headers.traceparent = input.traceparent;
  return { url: input.endpoint.url, headers, body: input.payload, timeoutMs: input.endpoint.timeoutMs };
}
