/**
 * Ordered delivery by key: the rules shared by publishing (which puts deliveries in lines) and the deliveries
 * module (which runs only the head of each line). See src/deliveries/attempt-plan.ts for the whole design.
 */

/** Whether a delivery to an endpoint with this ordering, of an event with this key, takes a place in a line. */
export function takesPlaceInLine(ordering: string, orderingKey: string | null | undefined): boolean {
  return ordering === 'key' && !!orderingKey;
}

/**
 * The next attempt time of a delivery waiting behind the head of its line: far beyond any real time, so that the
 * sweeper's scan of overdue deliveries (an index range on next_attempt_at) never walks the waiting ones, however
 * long a line grows, and no claim takes one. The release of its line sets a real time. Not NULL, which means
 * "parked behind a disabled endpoint" and is un-parked by enabling it. Shown as no next attempt (`null`).
 */
export const WAITING_IN_LINE_AT = new Date('9999-01-01T00:00:00.000Z');
export const WAITING_IN_LINE_SQL = `'9999-01-01T00:00:00Z'::timestamptz`;

/** Whether a stored next attempt time is the waiting-in-line mark. */
export function waitsInLine(nextAttemptAt: Date | null): boolean {
  return nextAttemptAt !== null && nextAttemptAt.getTime() >= WAITING_IN_LINE_AT.getTime();
}
