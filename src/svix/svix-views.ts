import { waitsInLine } from '../endpoints/ordering';
import { DeliveryAttempt } from '../deliveries/attempt.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { Endpoint } from '../endpoints/endpoint.entity';
import { EventType } from '../event-types/event-type.entity';
import { HeraldEvent } from '../events/event.entity';
import { Tenant } from '../tenants/tenant.entity';

// Svix's output shapes, built from Herald's rows. Pure. Svix's enums are numbers:
// status 0 success, 1 pending, 2 fail, 3 sending; triggerType 0 scheduled, 1 manual.

export const STATUS_TEXT = ['success', 'pending', 'fail', 'sending'] as const;
export type SvixStatus = 0 | 1 | 2 | 3;

/** A delivery's status as Svix names a message's status at one endpoint. */
export function deliveryStatus(d: Pick<Delivery, 'status'>): SvixStatus {
  return d.status === 'succeeded' ? 0 : d.status === 'dead' ? 2 : 1;
}

export function attemptStatus(a: Pick<DeliveryAttempt, 'statusCode'>): SvixStatus {
  return a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300 ? 0 : 2;
}

/** Svix keeps metadata as a string map; Herald's may hold any JSON: non-strings are given as JSON text. */
function stringMap(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(value ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export function applicationOut(t: Tenant) {
  return {
    id: t.id,
    uid: t.uid,
    name: t.name,
    metadata: stringMap(t.metadata),
    rateLimit: t.endpointRateLimitPerSecond,
    throttleRate: t.endpointRateLimitPerSecond,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export function endpointOut(e: Endpoint) {
  return {
    id: e.id,
    uid: e.uid,
    url: e.url,
    description: e.description,
    version: 1,
    disabled: e.disabled,
    filterTypes: e.eventTypes.length ? e.eventTypes : null,
    channels: e.channels.length ? e.channels : null,
    rateLimit: e.rateLimitPerSecond,
    throttleRate: e.rateLimitPerSecond,
    metadata: stringMap(e.metadata),
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export function messageOut(e: HeraldEvent, withContent = true) {
  return {
    id: e.id,
    eventId: e.idempotencyKey,
    eventType: e.eventType,
    ...(withContent ? { payload: JSON.parse(e.payload) as unknown } : { payload: {} }),
    channels: e.channels,
    tags: null,
    timestamp: e.createdAt.toISOString(),
  };
}

/** A message as one endpoint saw it (attempted messages). */
export function endpointMessageOut(e: HeraldEvent, d: Delivery, withContent = true) {
  const status = deliveryStatus(d);
  return { ...messageOut(e, withContent), status, statusText: STATUS_TEXT[status], nextAttempt: d.status === 'pending' && d.nextAttemptAt && !waitsInLine(d.nextAttemptAt) ? d.nextAttemptAt.toISOString() : null };
}

/** An endpoint as one message reached it (attempted destinations). */
export function messageEndpointOut(e: Endpoint, d: Delivery) {
  const status = deliveryStatus(d);
  return { ...endpointOut(e), status, statusText: STATUS_TEXT[status], nextAttempt: d.status === 'pending' && d.nextAttemptAt && !waitsInLine(d.nextAttemptAt) ? d.nextAttemptAt.toISOString() : null };
}

export function attemptOut(a: DeliveryAttempt, d: Pick<Delivery, 'eventId'>, url: string, withContent = true) {
  const status = attemptStatus(a);
  return {
    id: a.id,
    msgId: d.eventId,
    endpointId: a.endpointId,
    url,
    response: withContent ? (a.responseBody ?? (a.error ? a.error : '')) : '',
    responseStatusCode: a.statusCode ?? 0,
    responseDurationMs: a.durationMs,
    status,
    statusText: STATUS_TEXT[status],
    triggerType: a.trigger === 'manual' ? 1 : 0,
    timestamp: a.startedAt.toISOString(),
  };
}

/** Svix versions schemas (`{"1": schema}`); Herald's catalog holds one, which is version 1. */
export function eventTypeOut(t: EventType, withContent = true) {
  const schema = t.schema && t.example && !Array.isArray(t.schema.examples) ? { ...t.schema, examples: [t.example] } : t.schema;
  return {
    name: t.name,
    description: t.description,
    archived: t.archived,
    deprecated: t.deprecated,
    schemas: withContent && schema ? { '1': schema } : null,
    featureFlag: null,
    groupName: null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/** The native catalog's fields from Svix's `schemas`: the highest version wins; its first example is the example. */
export function catalogSchema(schemas: Record<string, Record<string, unknown>> | null | undefined): { schema: Record<string, unknown> | null; example: Record<string, unknown> | null } {
  if (!schemas) return { schema: null, example: null };
  const versions = Object.keys(schemas).sort((a, b) => Number(b) - Number(a));
  const schema = versions.length ? schemas[versions[0]] : null;
  const examples = schema && Array.isArray(schema.examples) ? schema.examples : [];
  const example = examples.find((x): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)) ?? null;
  return { schema, example };
}
