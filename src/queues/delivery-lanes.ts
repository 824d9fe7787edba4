/**
 * Each shard has two queues, its lanes. The live lane carries what a producer or an operator waits for now
 * (single publishes, retries, deferrals, resends, ordered-line releases); the bulk lane carries work that comes
 * in thousands at once (replays, the sweeper's re-offers, a stopping worker's hand-back, and a burst for one
 * endpoint in one enqueue). A worker consumes both, so a live job never waits in Redis behind a burst: Bull fetches
 * a queue's jobs one by one, and a burst in front of a live job would be fetched whole before it.
 */
export type Lane = 'live' | 'bulk';
export const LANES: readonly Lane[] = ['live', 'bulk'];

/** Why attempts are queued; the scheduler picks their lane from it (see laneOf). */
export type EnqueueReason = 'publish' | 'retry' | 'resend' | 'release' | 'example' | 'replay' | 'sweep' | 'hand back';

/** Work that is bulk whatever its size: already late (re-offers, hand-backs) or asked for in bulk (replays). */
const BULK_REASONS: ReadonlySet<EnqueueReason> = new Set(['replay', 'sweep', 'hand back']);

/**
 * The lane of each item, in order. A burst is counted per endpoint within one enqueue (a batch publish, or
 * concurrent publishes sharing one commit): every job of an endpoint that gets more than `bulkThreshold` goes to the
 * bulk lane, the other endpoints' jobs of the same call stay live.
 */
export function laneOf(items: readonly { endpointId: string }[], reason: EnqueueReason, bulkThreshold: number): Lane[] {
  if (BULK_REASONS.has(reason)) return items.map(() => 'bulk');
  // No endpoint can pass the threshold in a call this small (a single publish, a retry): nothing to count.
  if (items.length <= bulkThreshold) return items.map(() => 'live');
  const perEndpoint = new Map<string, number>();
  for (const item of items) perEndpoint.set(item.endpointId, (perEndpoint.get(item.endpointId) ?? 0) + 1);
  return items.map((item) => (perEndpoint.get(item.endpointId)! > bulkThreshold ? 'bulk' : 'live'));
}
