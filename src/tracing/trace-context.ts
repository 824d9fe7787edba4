import { SpanContext, TraceFlags, isSpanContextValid } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C `traceparent` (version 00) into a remote span context; undefined when absent or malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim()) : null;
  if (!m) return undefined;
  const context: SpanContext = { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED, isRemote: true };
  return isSpanContextValid(context) ? context : undefined;
}

/** The `traceparent` of a span context (ids and the sampled flag only: no trace state, no baggage). */
export function formatTraceparent(context: SpanContext): string | null {
  if (!isSpanContextValid(context)) return null;
  const flags = context.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** A URL as a span may show it: no user info, query or fragment (they may carry secrets). */
export function urlWithoutQuery(raw: string): { full: string; host: string; port: number } | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { full: `${url.protocol}//${url.host}${url.pathname}`, host: url.hostname, port };
}
