import { Endpoint } from './endpoint.entity';
import { matchesEventType } from './event-type-filter';

/** What fan-out knows of an event when it picks the endpoints that get it. */
export interface PublishedEventFacts {
  eventType: string;
  /** The stored payload (serialised JSON). */
  payload: string;
}

/**
 * Whether an enabled endpoint subscribes to the event: the one rule fan-out applies (and anything that
 * asks "would this endpoint have got it", such as a replay of what was never sent). Pure.
 */
export function subscribes(endpoint: Pick<Endpoint, 'eventTypes'>, event: PublishedEventFacts): boolean {
  return matchesEventType(endpoint.eventTypes, event.eventType);
}
