import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { DELIVERY_QUEUES, DeliveryJob, DeliveryQueues } from '../queues/delivery-queues';
import { MetricsService } from './metrics.service';

/** A scrape waits at most this long for Redis; a shard that does not answer in time keeps its last values. */
const SCRAPE_BUDGET_MS = 1000;

/** When a job became ready to run: its creation, or the end of its delay. */
export function readySince(job: Pick<Job, 'timestamp' | 'opts'>): number {
  return job.timestamp + (job.opts.delay ?? 0);
}

/**
 * Queue depth and oldest job age per shard, read from Bull at scrape time: the job counts, the oldest
 * waiting job (the tail of the wait list) and the earliest delayed job (due but not yet promoted when no
 * worker runs). Three small Redis calls per shard.
 */
@Injectable()
export class QueueGauges {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
  ) {}

  async refresh(now = Date.now()): Promise<void> {
    const deadline = new Promise<null>((resolve) => setTimeout(() => resolve(null), SCRAPE_BUDGET_MS).unref());
    await Promise.all(
      this.queues.map(async (queue, shard) => {
        const read = Promise.all([queue.getJobCounts(), queue.getWaiting(0, 0), queue.getDelayed(0, 0)]).catch(() => null);
        const result = await Promise.race([read, deadline]);
        if (!result) return;
        const [counts, waiting, delayed] = result;
        for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ shard: String(shard), state }, n as number);
        const ready = [...waiting, ...delayed].filter((j): j is Job<DeliveryJob> => !!j).map(readySince).filter((t) => t <= now);
        this.metrics.queueOldestJobAge.set({ shard: String(shard) }, ready.length ? (now - Math.min(...ready)) / 1000 : 0);
      }),
    );
  }
}
