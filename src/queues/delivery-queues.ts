import type { JobOptions, Queue } from 'bull';

/**
 * The job catalogue. Herald has one kind of job: "attempt this delivery". Jobs carry ids only;
 * the delivery row holds the state. The job id `<deliveryId>:<attemptNumber>` makes a re-enqueue
 * (by the sweeper, after Redis lost its data) a no-op when the job is still there.
 */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
  /**
   * Set on a job re-scheduled without an attempt (rate limit, in-flight cap, open circuit): how many
   * times this attempt has been deferred. It gives the job a distinct id, `<deliveryId>:<attempt>:s<n>`.
   */
  deferrals?: number;
  /** The send slot was reserved before the job was deferred to it: send without reserving again. */
  slotReserved?: boolean;
  /** The reserved slot (epoch ms): the job is run slightly early and sends at this time, not before. */
  sendAt?: number;
  /** This attempt once ran too late for its slot and reserved another; it will not give one up again. */
  slotMissed?: boolean;
}

export const DELIVERY_QUEUES = Symbol('DeliveryQueues');
export type DeliveryQueues = Queue<DeliveryJob>[];

/** The hash tag keeps every key of one shard on one Redis Cluster node. */
export function deliveryQueueName(shard: number): string {
  return `{deliveries.${shard}}`;
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

/** The id of an attempt's n-th deferral: distinct from the attempt's own job, which may still be completing. */
export function deferredJobId(deliveryId: string, attempt: number, deferrals: number): string {
  return `${deliveryId}:${attempt}:s${deferrals}`;
}

export const DELIVERY_JOB_OPTIONS: JobOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  // Only infrastructure errors (PostgreSQL unreachable) fail a job; HTTP failures are handled as attempts.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
};

export interface EnqueueItem {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  delayMs?: number;
  /** A send slot already reserved for this attempt (epoch ms): the job runs just before it and sends at it. */
  sendAt?: number;
}

/** How much before its reserved slot a job is run; the worker waits out the rest just before sending. */
export const SLOT_LEAD_MS = 40;

/** Adds jobs grouped by shard, one addBulk per shard. */
export async function enqueueDeliveries(queues: DeliveryQueues, items: EnqueueItem[]): Promise<void> {
  const byShard = new Map<number, EnqueueItem[]>();
  for (const item of items) {
    const shard = shardOf(item.endpointId, queues.length);
    const list = byShard.get(shard);
    if (list) list.push(item);
    else byShard.set(shard, [item]);
  }
  await Promise.all(
    [...byShard].map(([shard, list]) =>
      queues[shard].addBulk(
        list.map((item) => {
          const delay = item.sendAt !== undefined ? item.sendAt - SLOT_LEAD_MS - Date.now() : (item.delayMs ?? 0);
          const data: DeliveryJob = { deliveryId: item.deliveryId, attempt: item.attempt };
          if (item.sendAt !== undefined) Object.assign(data, { slotReserved: true, sendAt: item.sendAt });
          return { data, opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(item.deliveryId, item.attempt), delay: delay > 0 ? Math.ceil(delay) : undefined } };
        }),
      ),
    ),
  );
}

/**
 * Re-schedules an attempt that must wait (not an attempt itself). A deferral id that already exists
 * (the same wait re-offered by a duplicate job) makes this a no-op, as Bull keeps the first.
 */
export async function deferDelivery(queues: DeliveryQueues, endpointId: string, job: DeliveryJob, delayMs: number, next: Pick<DeliveryJob, 'sendAt' | 'slotMissed'> = {}): Promise<void> {
  const deferrals = (job.deferrals ?? 0) + 1;
  const data: DeliveryJob = { deliveryId: job.deliveryId, attempt: job.attempt, deferrals };
  if (next.sendAt !== undefined) Object.assign(data, { slotReserved: true, sendAt: next.sendAt });
  if (next.slotMissed || job.slotMissed) data.slotMissed = true;
  await queues[shardOf(endpointId, queues.length)].add(data, {
    ...DELIVERY_JOB_OPTIONS,
    jobId: deferredJobId(job.deliveryId, job.attempt, deferrals),
    delay: delayMs > 0 ? Math.ceil(delayMs) : undefined,
  });
}
