import { Endpoint } from './endpoint.entity';
import { matchesEventType } from './event-type-filter';
import { compiledFilterOf } from './filter/compiled-filters';
import { FilterResult } from './filter/payload-filter';

/** A channel name, as Svix allows them. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_.:#-]{1,128}$/;

/** What fan-out knows of an event when it picks the endpoints that get it. */
export interface PublishedEventFacts {
  eventType: string;
  /** The event's channels; none (or empty) reaches every endpoint. */
  channels?: readonly string[] | null;
  /** The stored payload (serialised JSON). */
  payload: string;
}

// The parsed payload of each event, parsed at most once however many endpoints' filters read it.
const parsedPayloads = new WeakMap<PublishedEventFacts, unknown>();

function parsedPayload(event: PublishedEventFacts): unknown {
  if (parsedPayloads.has(event)) return parsedPayloads.get(event);
  let value: unknown;
  try {
    value = JSON.parse(event.payload);
  } catch {
    value = undefined; // not JSON: no payload path exists
  }
  parsedPayloads.set(event, value);
  return value;
}

/** Whether the endpoint's payload filter holds for the event (true when it has none), and which clause failed. */
export function filterVerdict(endpoint: Pick<Endpoint, 'filter'>, event: PublishedEventFacts): FilterResult {
  const filter = compiledFilterOf(endpoint);
  if (!filter) return { matches: true, reason: null };
  return filter({ eventType: event.eventType, payload: parsedPayload(event) });
}

/**
 * Herald's own events (`herald.endpoint.disabled`, …) go only to endpoints that name them (`herald.*`,
 * `herald.delivery.dead`): one that takes every type (`[]` or `*`) did not ask for them.
 */
function matchesType(eventTypes: readonly string[], eventType: string): boolean {
  if (!eventType.startsWith('herald.')) return matchesEventType(eventTypes, eventType);
  const named = eventTypes.filter((pattern) => pattern.startsWith('herald.'));
  return named.length > 0 && matchesEventType(named, eventType);
}

/**
 * Whether an enabled endpoint subscribes to the event: the one rule fan-out applies (and anything that
 * asks "would this endpoint have got it", such as a replay of what was never sent). Its event types must
 * match, and its payload filter hold. Pure.
 */
export function subscribes(endpoint: Pick<Endpoint, 'eventTypes' | 'channels' | 'filter'>, event: PublishedEventFacts): boolean {
  return matchesType(endpoint.eventTypes, event.eventType) && sharesChannel(endpoint.channels, event.channels) && filterVerdict(endpoint, event).matches;
}

/**
 * Svix's channel rule: an endpoint without channels gets every event; an endpoint with channels gets only
 * the events that have a channel in common with it (so not the events without channels).
 */
export function sharesChannel(endpointChannels: readonly string[] | null | undefined, eventChannels: readonly string[] | null | undefined): boolean {
  if (!endpointChannels?.length) return true;
  return !!eventChannels?.some((c) => endpointChannels.includes(c));
}
