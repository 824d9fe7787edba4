import { Endpoint } from '../endpoints/endpoint.entity';
import { transform } from '../transformations/transformation';
import { signWebhook } from '../common/webhook-signature';

/** What an attempt sends, before the sender adds nothing but the transport. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What the request is built from: the event as stored, the endpoint as cached, the secrets that sign now. */
export interface WebhookRequestInput {
  endpoint: Pick<Endpoint, 'url' | 'headers' | 'timeoutMs' | 'transformation'> & Partial<Pick<Endpoint, 'sendTraceparent' | 'signatureHeaders'>>;
  eventId: string;
  eventType: string;
  /** The stored payload: the exact bytes signed and sent (unless the endpoint transforms them). */
  payload: string;
  sourceHeaders: Record<string, string> | null;
  signingSecrets: readonly string[];
  userAgent: string;
  startedAt: Date;
  /** The attempt's W3C traceparent; sent only to an endpoint that opted in (sendTraceparent). */
  traceparent?: string | null;
}

/** The error an attempt records when the endpoint's transformation fails; its message follows in the attempt log. */
export const TRANSFORMATION_FAILED = 'transformation_failed';

export type BuiltWebhookRequest = { ok: true; request: WebhookRequest } | { ok: false; error: string };

/**
 * The request a receiver gets (API.md, "The request a receiver gets"): the sender's own headers as
 * `x-herald-source-*`, the endpoint's headers, then Herald's, which no endpoint header may override.
 * The body is the stored payload, or the endpoint's transformation of it, and the signature covers
 * exactly that body. Not ok (nothing to send) when the transformation fails: `error` is
 * `transformation_failed: <why>`. Deterministic: the same input gives the same request.
 */
export async function buildWebhookRequest(input: WebhookRequestInput): Promise<BuiltWebhookRequest> {
  let body = input.payload;
  if (input.endpoint.transformation) {
    let payload: unknown;
    try {
      payload = JSON.parse(input.payload);
    } catch {
      return { ok: false, error: `${TRANSFORMATION_FAILED}: the stored payload is not JSON` };
    }
    const transformed = await transform(input.endpoint.transformation, { eventType: input.eventType, payload });
    if (!transformed.ok) return { ok: false, error: `${TRANSFORMATION_FAILED}: ${transformed.error}` };
    body = transformed.body;
  }
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
    [`${prefix}-signature`]: signWebhook(input.signingSecrets, input.eventId, timestamp, body),
  });
  if (input.endpoint.sendTraceparent && input.traceparent) headers.traceparent = input.traceparent;
  return { ok: true, request: { url: input.endpoint.url, headers, body, timeoutMs: input.endpoint.timeoutMs } };
}
