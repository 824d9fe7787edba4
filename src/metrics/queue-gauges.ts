import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { LANES } from '../queues/delivery-lanes';
import { DELIVERY_QUEUES, DeliveryJob, DeliveryQueues } from '../queues/delivery-queues';
import { MetricsService } from './metrics.service';

/** A scrape waits at most this long for Redis; a shard that does not answer in time keeps its last values. */
const SCRAPE_BUDGET_MS = 1000;

/** When a job became ready to run: its creation, or the end of its delay. */
export function readySince(job: Pick<Job, 'timestamp' | 'opts'>): number {
  return job.timestamp + (job.opts.delay ?? 0);
}

/**
 * Queue depth and oldest job age per shard and lane, read from Bull at scrape time: the job counts, the oldest
 * waiting job (the tail of the wait list) and the earliest delayed job (due but not yet promoted when no
 * worker runs). Three small Redis calls per lane of each shard.
 */
@Injectable()
export class QueueGauges {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
  ) {}

  async refresh(now = Date.now()): Promise<void> {
    const deadline = new Promise<null>((resolve) => setTimeout(() => resolve(null), SCRAPE_BUDGET_MS).unref());
    const lanes = this.queues.flatMap((shardQueues, shard) => LANES.map((lane) => ({ queue: shardQueues[lane], labels: { shard: String(shard), lane } })));
    await Promise.all(
      lanes.map(async ({ queue, labels }) => {
        const read = Promise.all([queue.getJobCounts(), queue.getWaiting(0, 0), queue.getDelayed(0, 0)]).catch(() => null);
        const result = await Promise.race([read, deadline]);
        if (!result) return;
        const [counts, waiting, delayed] = result;
        for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ ...labels, state }, n as number);
        const ready = [...waiting, ...delayed].filter((j): j is Job<DeliveryJob> => !!j).map(readySince).filter((t) => t <= now);
        this.metrics.queueOldestJobAge.set(labels, ready.length ? (now - Math.min(...ready)) / 1000 : 0);
      }),
    );
  }
}
