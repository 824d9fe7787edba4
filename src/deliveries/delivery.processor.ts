import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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
export class DeliveryProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
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

  /** Stops taking jobs and waits (bounded) for the attempts in flight. */
  async onApplicationShutdown(): Promise<void> {
    const closing = Promise.all(this.config.workerShards.map((shard) => this.queues[shard].close().catch(() => undefined)));
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
  }
}
