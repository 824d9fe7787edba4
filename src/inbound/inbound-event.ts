import { createHash } from 'node:crypto';
import { EVENT_TYPE_PATTERN } from '../endpoints/event-type-filter';
import { VerifierConfig, sensitiveHeaders } from './verifiers';

/** Headers about the connection, not the message, and those that would carry the sender's credentials. */
const NEVER_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'content-length',
  'host',
  'authorization',
  'cookie',
  'set-cookie',
  'expect',
  // Added by the proxies in front of Herald: they describe the last hop, not the sender's message.
  'forwarded',
  'via',
  'x-real-ip',
]);
const MAX_FORWARDED_HEADERS = 50;
const MAX_HEADER_VALUE = 4096;

/** Replaces what an event type may not contain, so any provider's name (or a source name) becomes a valid type. */
export function sanitiseEventType(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
  return cleaned || 'received';
}

/** The provider's type, else the source's configured type, else `<source name>.received`. */
export function inboundEventType(providerType: string | undefined, source: { name: string; eventType: string | null }): string {
  if (providerType) return sanitiseEventType(providerType);
  if (source.eventType && EVENT_TYPE_PATTERN.test(source.eventType)) return source.eventType;
  return sanitiseEventType(`${source.name.slice(0, 119)}.received`);
}

/**
 * The event payload: the raw body itself when it is a JSON object (so receivers get the provider's exact bytes),
 * otherwise `{"raw": <base64>, "contentType": …}`.
 */
export function inboundPayload(rawBody: Buffer, contentType: string | undefined): string {
  const text = rawBody.toString('utf8');
  // Invalid UTF-8 would not survive the round trip through a text column byte for byte: wrap it instead.
  if (Buffer.from(text, 'utf8').equals(rawBody)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return text;
    } catch {
      // not JSON: wrapped below
    }
  }
  return JSON.stringify({ raw: rawBody.toString('base64'), contentType: contentType ?? 'application/octet-stream' });
}

/** Idempotency key of a provider's event within a source; long provider ids are hashed to fit the column. */
export function providerIdempotencyKey(sourceId: string, providerEventId: string): string {
  const id = providerEventId.length <= 200 ? providerEventId : `sha256:${createHash('sha256').update(providerEventId).digest('hex')}`;
  return `src:${sourceId}:${id}`;
}

/** The sender's headers worth forwarding (as x-herald-source-<name>): lower-cased, without credentials or signatures. */
export function forwardableHeaders(headers: Record<string, string | string[] | undefined>, verifier: VerifierConfig): Record<string, string> {
  const excluded = new Set([...NEVER_FORWARDED, ...sensitiveHeaders(verifier)]);
  // Headers a `Connection` header names are hop-by-hop too (RFC 9110 §7.6.1).
  const connection = headers['connection'];
  for (const name of (Array.isArray(connection) ? connection.join(',') : (connection ?? '')).split(',')) {
    if (name.trim()) excluded.add(name.trim().toLowerCase());
  }
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (rawValue === undefined || excluded.has(name) || name.startsWith('x-forwarded-') || count >= MAX_FORWARDED_HEADERS) continue;
    const value = Array.isArray(rawValue) ? rawValue.join(', ') : rawValue;
    if (value.length > MAX_HEADER_VALUE || /[\r\n\0]/.test(value)) continue;
    kept[name] = value;
    count++;
  }
  return kept;
}
