import { HeraldConfig } from '../config/config';

/** Room for what surrounds a payload in a request body: eventType, idempotencyKey, JSON punctuation, whitespace. */
export const ENVELOPE_BYTES = 16 * 1024;

/**
 * The largest body each route reads (Fastify stops reading past it and answers 413): for a single publish
 * twice the payload limit (a payload somewhat over it is refused by the service, naming `payload`, and
 * pretty-printed JSON shrinks when stored), a payload's worth for /in/* (whose service logs what it
 * refuses), the payload limit times the batch size for a batch, HERALD_MAX_BODY_BYTES for everything else.
 * The services check each payload exactly against HERALD_MAX_PAYLOAD_BYTES.
 */
export function bodyLimitFor(
  method: string,
  path: string,
  config: Pick<HeraldConfig, 'maxPayloadBytes'> & { limits: Pick<HeraldConfig['limits'], 'maxBodyBytes'> },
  maxBatchEvents: number,
): number {
  const publishing = config.maxPayloadBytes + ENVELOPE_BYTES;
  if (method === 'POST' && /^\/in\//.test(path)) return publishing;
  if (method === 'POST' && /^\/v1\/tenants\/:tenantId\/events\/?$/.test(path)) return 2 * config.maxPayloadBytes + ENVELOPE_BYTES;
  if (method === 'POST' && /^\/v1\/tenants\/:tenantId\/events\/batch\/?$/.test(path)) return maxBatchEvents * publishing;
  return config.limits.maxBodyBytes;
}
