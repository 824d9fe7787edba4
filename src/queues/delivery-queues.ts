import type { JobOptions, Queue } from 'bull';

/**
 * The job catalogue. Herald has one kind of job: "attempt this delivery". Jobs carry ids only;
 * the delivery row holds the state. The job id `<deliveryId>:<attemptNumber>` makes a re-enqueue
 * (by the sweeper, after Redis lost its data) a no-op when the job is still there.
 */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
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
}

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
        list.map((item) => ({
          data: { deliveryId: item.deliveryId, attempt: item.attempt },
          opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(item.deliveryId, item.attempt), delay: item.delayMs && item.delayMs > 0 ? item.delayMs : undefined },
        })),
      ),
    ),
  );
}
