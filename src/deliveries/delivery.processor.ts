import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { DELIVERY_QUEUES, DeliveryQueues } from '../queues/delivery-queues';
import { DeliveryWorker } from './delivery-worker';

/** How long a stopping worker lets in-flight attempts finish before it exits anyway. */
const SHUTDOWN_GRACE_MS = 20_000;

/**
 * The Bull adapter: consumes this worker's shards and hands each job to DeliveryWorker.
 * A job fails only on infrastructure errors (Bull retries it; the sweeper is the backstop).
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    private readonly worker: DeliveryWorker,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  onApplicationBootstrap(): void {
    const shards = this.config.workerShards;
    const perShard = Math.max(1, Math.ceil(this.config.workerConcurrency / shards.length));
    for (const shard of shards) {
      void this.queues[shard].process(perShard, (job) => this.worker.attempt(job.data));
    }
    this.logger.log(`consuming shards ${shards.join(',')} with ${perShard} concurrent attempts each`);
  }

  /**
   * Stops taking jobs and waits (bounded) for the attempts in flight. This runs before any module's
   * onApplicationShutdown, so PostgreSQL and the shared Redis connections are still open while the last
   * attempts are recorded: an attempt that reached its receiver is never left unrecorded (and re-sent).
   * Every shard is paused first and closed after: closing one queue quits the connections all share.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const queues = this.config.workerShards.map((shard) => this.queues[shard]);
    const started = Date.now();
    const bounded = (work: Promise<unknown>) => Promise.race([work, new Promise((resolve) => setTimeout(resolve, Math.max(0, SHUTDOWN_GRACE_MS - (Date.now() - started))).unref())]);
    await bounded(Promise.all(queues.map((queue) => queue.pause(true).catch(() => undefined))));
    this.logger.log(`stopped taking jobs; in-flight attempts finished in ${Date.now() - started} ms`);
    await bounded(Promise.all(queues.map((queue) => queue.close().catch(() => undefined))));
  }
}
