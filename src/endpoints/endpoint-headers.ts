/** The most extra headers an endpoint may have. */
export const MAX_ENDPOINT_HEADERS = 50;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/**
 * Names an endpoint may not set, each for a reason: Herald sets them itself (webhook-*, content-type,
 * content-length, user-agent, host), they would change how the request is framed or read (hop-by-hop
 * headers, expect, any content-* such as content-encoding, which would make receivers decode the JSON as
 * gzip), or the HTTP client refuses to send them and every delivery would fail.
 */
const RESERVED = /^(webhook-.*|svix-.*|content-.*|host|connection|transfer-encoding|keep-alive|proxy-connection|upgrade|http2-settings|te|trailer|expect|user-agent)$/i;

/** HTTP field values: tab, visible ASCII, space and obs-text bytes; no control characters (\u0001, \u007f), nothing above \u00ff. */
const VALUE = /^[\t\x20-\x7e\x80-\xff]{0,4096}$/;

/** Why an endpoint's extra headers would break its deliveries, or null when they are fine. */
export function endpointHeadersProblem(headers: unknown): string | null {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return 'must be an object of header names to string values';
  const entries = Object.entries(headers as Record<string, unknown>);
  if (entries.length > MAX_ENDPOINT_HEADERS) return `may hold at most ${MAX_ENDPOINT_HEADERS} headers`;
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) return `"${name.slice(0, 64)}" is not a valid header name`;
    if (RESERVED.test(name)) return `${name} is set by Herald or would break every delivery (not allowed: webhook-*, svix-*, content-*, host, user-agent, expect and hop-by-hop headers)`;
    if (typeof value !== 'string') return `${name} must be a string`;
    if (!VALUE.test(value)) return `${name} must be at most 4096 characters, without control characters (such as \\u0001, \\u007f, line breaks) or characters above \\u00ff`;
  }
  return null;
}
