import type { JobOptions, Queue } from 'bull';
import { LANES, Lane } from './delivery-lanes';
import { groupBy } from '../common/group-by';

/**
 * The job catalogue. Herald has one kind of job: "attempt this delivery". Jobs carry ids only (and, for an
 * attempt whose send slot is already reserved, that slot); the delivery row holds the state. The job id
 * `<deliveryId>:<attemptNumber>` makes a re-enqueue (by the sweeper, after Redis lost its data) a no-op
 * when the job is still there.
 */
export interface DeliveryJob {
  /** The payload's version, so that a rolling deploy reads yesterday's jobs. */
  v: 1;
  deliveryId: string;
  /** Which endpoint (and so which fair share of the worker) the attempt is for. */
  endpointId: string;
  attempt: number;
  /** Set on a job re-scheduled without an attempt (rate limit, open circuit): its n-th deferral, for a distinct job id. */
  deferral?: number;
  /** The send slot reserved for this attempt (epoch ms): the job runs just before it and sends at it, not before. */
  slotAt?: number;
  /** This attempt once ran too late for its slot and took another; it will not give one up again. */
  slotRetaken?: boolean;
}

/** Jobs written before payloads were versioned: `sendAt`/`slotReserved`/`slotMissed`, no endpoint id. */
interface LegacyJob {
  deliveryId: string;
  attempt: number;
  deferrals?: number;
  slotReserved?: boolean;
  sendAt?: number;
  slotMissed?: boolean;
}

/** True for a job written before payloads were versioned: reading it needs its endpoint's id (see readJob). */
export function isLegacyJob(data: unknown): boolean {
  return !!data && typeof data === 'object' && (data as { v?: unknown }).v === undefined;
}

/**
 * Reads a job of any version as the current one; null for one this version does not know (it is dropped, and
 * the sweeper offers its delivery again). A legacy job needs its endpoint's id, looked up by the caller.
 */
export function readJob(data: unknown, legacyEndpointId?: string): DeliveryJob | null {
  const job = data as Partial<DeliveryJob> & LegacyJob;
  if (!job || typeof job.deliveryId !== 'string' || !Number.isInteger(job.attempt)) return null;
  if (job.v === 1) return typeof job.endpointId === 'string' ? (job as DeliveryJob) : null;
  if (job.v !== undefined) return null;
  const endpointId = legacyEndpointId;
  if (!endpointId) return null;
  const read: DeliveryJob = { v: 1, deliveryId: job.deliveryId, endpointId, attempt: job.attempt };
  if (job.deferrals) read.deferral = job.deferrals;
  if (job.slotReserved && job.sendAt !== undefined) read.slotAt = job.sendAt;
  if (job.slotMissed) read.slotRetaken = true;
  return read;
}

export const DELIVERY_QUEUES = Symbol('DeliveryQueues');
/** A shard's two queues (see delivery-lanes.ts). */
export type ShardQueues = Record<Lane, Queue<DeliveryJob>>;
/** Indexed by shard. */
export type DeliveryQueues = ShardQueues[];

/**
 * The hash tag keeps every key of one shard, both lanes, on one Redis Cluster node (in one slot). The live lane
 * keeps the name the shard always had, so a rolling deploy still drains the jobs queued before lanes existed.
 */
export function deliveryQueueName(shard: number, lane: Lane = 'live'): string {
  return lane === 'live' ? `{deliveries.${shard}}` : `{deliveries.${shard}}.bulk`;
}

/** FNV-1a: an endpoint always maps to the same shard. */
export function shardOf(endpointId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < endpointId.length; i++) {
    hash ^= endpointId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export function deliveryJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}:${attempt}`;
}

/**
 * The id of the job that a line's release queues for its new head: distinct from the attempt's own job id, which a
 * job queued while the delivery waited (by a resend) may still hold, running at that very moment and about to drop
 * (it was claimed against the delivery still waiting): Bull would take an add under its id for a no-op.
 */
export function releasedJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}:${attempt}:r`;
}

/** The id of an attempt's n-th deferral: distinct from the attempt's own job, which may still be completing. */
export function deferredJobId(deliveryId: string, attempt: number, deferral: number): string {
  return `${deliveryId}:${attempt}:s${deferral}`;
}

/**
 * A worker completes a job as soon as it has claimed the delivery in PostgreSQL (the claim, not Bull's lock,
 * then guards the attempt), so Bull's own retries only cover a claim that could not be made (PostgreSQL down).
 */
export const DELIVERY_JOB_OPTIONS: JobOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
};

export interface EnqueueItem {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  delayMs?: number;
  /** A send slot already reserved for this attempt (epoch ms): the job runs just before it and sends at it. */
  slotAt?: number;
  /** Queued by the release of its line (the head before it finished): its own job id, see releasedJobId. */
  released?: boolean;
}

/** An item with the lane the scheduler chose for it. */
export interface RoutedItem extends EnqueueItem {
  lane: Lane;
}

/** How much before its reserved slot a job is run; the worker waits out the rest just before sending. */
export const SLOT_LEAD_MS = 40;

/**
 * Adds jobs grouped by queue (shard and lane): one `addBulk` per queue (its scripts written in one MULTI, one round trip), then each
 * job the EXEC reply did not add is added again alone. addBulk inside MULTI loses jobs in silence on two faults:
 * Bull ignores the per-command errors of the EXEC reply (such a job comes back without an id), and ioredis marks a
 * connection as holding a script as soon as it writes the EVAL, so when that first EVAL fails (a restarted cluster
 * master answering CLUSTERDOWN or LOADING) every later EVALSHA on the connection gets NOSCRIPT, which ioredis
 * repairs only for a command outside MULTI. Found on a cluster master restarted empty: every enqueue to its shards,
 * the sweeper's included, "succeeded" and added nothing, for good. The lone `add` rejects on an error, and ioredis
 * re-sends a NOSCRIPT as EVAL there, which also mends the connection for the next MULTI. (A job id that exists
 * already comes back with its id: Bull keeps the first, as the sweeper's re-offers expect.)
 */
export async function enqueueDeliveries(queues: DeliveryQueues, items: RoutedItem[]): Promise<void> {
  const now = Date.now();
  const toJob = (item: RoutedItem) => {
    const delay = item.slotAt !== undefined ? item.slotAt - SLOT_LEAD_MS - now : (item.delayMs ?? 0);
    const data: DeliveryJob = { v: 1, deliveryId: item.deliveryId, endpointId: item.endpointId, attempt: item.attempt };
    if (item.slotAt !== undefined) data.slotAt = item.slotAt;
    const opts: JobOptions = {
      ...DELIVERY_JOB_OPTIONS,
      jobId: item.released ? releasedJobId(item.deliveryId, item.attempt) : deliveryJobId(item.deliveryId, item.attempt),
      delay: delay > 0 ? Math.ceil(delay) : undefined,
    };
    return { data, opts };
  };
  const byQueue = groupBy(items, (item) => queues[shardOf(item.endpointId, queues.length)][item.lane]);
  await Promise.all(
    [...byQueue].map(async ([queue, queueItems]) => {
      const list = queueItems.map(toJob);
      const added = list.length === 1 ? [] : await queue.addBulk(list);
      const missed = list.filter((_, i) => !added[i]?.id);
      await Promise.all(missed.map((job) => queue.add(job.data, job.opts)));
    }),
  );
}

/** What Redis holds of the jobs of attempts about to be offered again (see jobsInRedis). */
export interface JobsInRedis {
  /** Per item: a job with data under the attempt's own id, in either lane of its shard (it will run: no offer needed). */
  queued: boolean[];
  /** Husks removed (see jobsInRedis). */
  husks: number;
}

/**
 * Which of these attempts still have a job in Redis under their own id (deliveryJobId), in either lane of their
 * shard, after removing the husks among them. One script per shard: both lanes share its hash tag, so on a cluster
 * its keys are in one slot.
 *
 * A husk is a job hash without `data`. Bull writes every job with its data (addJob), but its moveToActive script
 * writes `processedOn` into whatever id its blocking fetch popped, so a flush (or a restarted Redis, to which ioredis
 * re-sends the unanswered script) landing between the fetch and the script leaves a hash holding only that, in no
 * list. The job runs once with no data (dropped: readJob), and Bull keeps the hash for good, as its options
 * (removeOnComplete) went with the flush. Every add under its id would then be a no-op, so its delivery would never
 * run again: it is removed, and counted as no job.
 */
export async function jobsInRedis(queues: DeliveryQueues, items: readonly EnqueueItem[]): Promise<JobsInRedis> {
  const byShard = groupBy(items.keys(), (i) => shardOf(items[i].endpointId, queues.length));
  const queued = items.map(() => false);
  let husks = 0;
  await Promise.all(
    [...byShard].map(async ([shard, indexes]) => {
      const keys = indexes.flatMap((i) => LANES.map((lane) => queues[shard][lane].toKey(deliveryJobId(items[i].deliveryId, items[i].attempt))));
      const [removed, ...found] = (await queues[shard].live.client.eval(JOBS_IN_REDIS, keys.length, ...keys)) as number[];
      husks += removed;
      indexes.forEach((item, k) => (queued[item] = found[k] === 1));
    }),
  );
  return { queued, husks };
}

/** KEYS: each item's job key in each lane (LANES.length per item). Answers the husks removed, then 1 or 0 per item. */
const JOBS_IN_REDIS = `local lanes = ${LANES.length}
local removed = 0
local found = {}
for i = 1, #KEYS, lanes do
  local queued = 0
  for k = i, i + lanes - 1 do
    local key = KEYS[k]
    if redis.call('EXISTS', key) == 1 then
      if redis.call('HEXISTS', key, 'data') == 1 then
        queued = 1
      else
        redis.call('DEL', key, key .. ':lock')
        removed = removed + 1
      end
    end
  end
  found[#found + 1] = queued
end
table.insert(found, 1, removed)
return found`;

/** What a deferred job carries forward: the slot it waits for (if any) and whether it already retook one. */
export type DeferredSlot = Pick<DeliveryJob, 'slotAt' | 'slotRetaken'>;

/**
 * Re-schedules an attempt that must wait (not an attempt itself), in the live lane: it waits for its own time (a
 * slot, a circuit's cool-down), and is one job, not a burst. A deferral id that already exists
 * (the same wait re-offered by a duplicate job) makes this a no-op, as Bull keeps the first.
 */
export async function deferDelivery(queues: DeliveryQueues, job: DeliveryJob, delayMs: number, next: DeferredSlot = {}): Promise<void> {
  const deferral = (job.deferral ?? 0) + 1;
  const data: DeliveryJob = { v: 1, deliveryId: job.deliveryId, endpointId: job.endpointId, attempt: job.attempt, deferral };
  if (next.slotAt !== undefined) data.slotAt = next.slotAt;
  if (next.slotRetaken || job.slotRetaken) data.slotRetaken = true;
  await queues[shardOf(job.endpointId, queues.length)].live.add(data, {
    ...DELIVERY_JOB_OPTIONS,
    jobId: deferredJobId(job.deliveryId, job.attempt, deferral),
    delay: delayMs > 0 ? Math.ceil(delayMs) : undefined,
  });
}
