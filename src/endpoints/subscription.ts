import { Endpoint } from './endpoint.entity';
import { matchesEventType } from './event-type-filter';

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

/**
 * Whether an enabled endpoint subscribes to the event: the one rule fan-out applies (and anything that
 * asks "would this endpoint have got it", such as a replay of what was never sent). Pure.
 */
export function subscribes(endpoint: Pick<Endpoint, 'eventTypes' | 'channels'>, event: PublishedEventFacts): boolean {
  return matchesEventType(endpoint.eventTypes, event.eventType) && sharesChannel(endpoint.channels, event.channels);
}

/**
 * Svix's channel rule: an endpoint without channels gets every event; an endpoint with channels gets only
 * the events that have a channel in common with it (so not the events without channels).
 */
export function sharesChannel(endpointChannels: readonly string[] | null | undefined, eventChannels: readonly string[] | null | undefined): boolean {
  if (!endpointChannels?.length) return true;
  return !!eventChannels?.some((c) => endpointChannels.includes(c));
}
