import { PublishedEventFacts } from '../endpoints/subscription';

/** The state changes Herald reports, each emitted once when it happens (not once per failed attempt). */
export type OperatorEvent =
  | { type: 'endpoint.disabled'; tenantId: string; endpointId: string; url: string; reason: 'gone' | 'failing'; failingSince?: string }
  | { type: 'endpoint.circuit_opened'; tenantId: string; endpointId: string; url: string; consecutiveFailures: number; retryAt: string }
  | { type: 'endpoint.recovered'; tenantId: string; endpointId: string; url: string }
  | { type: 'delivery.dead'; tenantId: string; endpointId: string; deliveryId: string; eventId: string; eventType: string; attempts: number; lastError: string }
  | { type: 'replay.finished'; tenantId: string; replayId: string; status: string; total: number; done: number; endpointId: string | null }
  | { type: 'source.verification_failing'; tenantId: string; sourceId: string; sourceName: string; consecutiveFailures: number; lastReason: string };

export type OperatorEventType = OperatorEvent['type'];

/** Herald's own event types all start with this; only endpoints that name them receive them. */
export const OPERATOR_EVENT_PREFIX = 'herald.';

/**
 * Whether to emit at all: a dead delivery of an operator event is not reported again, or an operator
 * endpoint that is down would feed itself events forever.
 */
export function shouldEmit(event: OperatorEvent): boolean {
  return !(event.type === 'delivery.dead' && event.eventType.startsWith(OPERATOR_EVENT_PREFIX));
}

/** The event as published: type `herald.<type>`, payload the event's fields and when it happened. */
export function operatorEventFacts(event: OperatorEvent, at: Date): PublishedEventFacts {
  const eventType = `${OPERATOR_EVENT_PREFIX}${event.type}`;
  return { eventType, payload: JSON.stringify({ ...event, type: eventType, occurredAt: at.toISOString() }) };
}
