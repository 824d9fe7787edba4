import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { settledWithin } from '../common/settled-within';
import { QUEUE_CLOSE_WAIT_MS, closeQueue } from '../queues/queue-close';
import { DELIVERY_QUEUES, DeliveryJob, DeliveryQueues, isLegacyJob, readJob } from '../queues/delivery-queues';
import { DeliveryStore } from './delivery-store';
import { DeliveryWorker } from './delivery-worker';

/**
 * The Bull adapter: consumes both lanes of this worker's shards and hands each job to DeliveryWorker. Both lanes
 * feed the same budget (and the same held jobs), so fairness between endpoints stays the budget's, and both are
 * fetched as many at a time (one endpoint's burst sits in one bulk queue: its fetch rate is its ceiling). A lane's
 * consumer takes a few jobs at a time (claiming is quick, and a job completes once its attempt is under way), so an idle
 * lane costs one blocking read per Bull drain delay; how many attempts run at once is the worker's budget,
 * shared by every shard. A job fails only when it could not be looked at (PostgreSQL unreachable): Bull then
 * offers it again, and the sweeper is the backstop.
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryProcessor.name);
  /** The local pause of every consumed queue, started by the first caller of stopTaking. */
  private pausing: Promise<unknown> | undefined;

  constructor(
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    private readonly worker: DeliveryWorker,
    private readonly store: DeliveryStore,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  onApplicationBootstrap(): void {
    const shards = this.config.workerShards;
    const handle = (job: Job<DeliveryJob>) => this.handle(job.data);
    for (const shard of shards) {
      void this.queues[shard].live.process(this.config.workerFetchConcurrency, handle);
      void this.queues[shard].bulk.process(this.config.workerBulkFetchConcurrency, handle);
    }
    this.logger.log(`consuming shards ${shards.join(',')} (live and bulk lanes): up to ${this.config.workerConcurrency} attempts at once`);
  }

  /** The queues this worker consumes: both lanes of each of its shards. */
  private consumed(): Queue<DeliveryJob>[] {
    return this.config.workerShards.flatMap((shard) => [this.queues[shard].live, this.queues[shard].bulk]);
  }

  private async handle(data: unknown): Promise<void> {
    const legacyEndpoint = isLegacyJob(data) ? await this.store.endpointOf((data as { deliveryId: string }).deliveryId) : undefined;
    const job = readJob(data, legacyEndpoint);
    // A job this version cannot read is dropped: its delivery row is still due, and the sweeper offers it again.
    if (job) await this.worker.take(job);
  }

  /**
   * The first hook of a stop (Nest runs every onModuleDestroy before any beforeApplicationShutdown): jobs are
   * taken within milliseconds each, so every moment until the queues are paused would start more attempts.
   */
  onModuleDestroy(): void {
    this.stopTaking();
  }

  /** Stops taking jobs at once (also called by the signal handler, before Nest's hooks run one module after another); resolves once every queue is paused. */
  stopTaking(): Promise<unknown> {
    this.worker.stopTaking();
    return (this.pausing ??= Promise.all(this.consumed().map((queue) => queue.pause(true, true).catch(() => undefined))));
  }

  /**
   * Stops taking jobs, then lets the attempts under way finish for up to HERALD_SHUTDOWN_GRACE_MS (the longest
   * endpoint timeout is 60 s). This runs before any module's onApplicationShutdown, so PostgreSQL and Redis are
   * still open while the last attempts are recorded. Every shard is paused first and closed after: closing one
   * queue quits the connections all share.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    // Each pause reconnects the queue's blocking connection: once per queue, not once per caller.
    await settledWithin(this.stopTaking(), QUEUE_CLOSE_WAIT_MS);
    await this.worker.drain(this.config.shutdownGraceMs);
    this.logger.log(`stopped taking jobs; attempts in flight finished in ${Date.now() - started} ms`);
    await Promise.all(this.consumed().map((queue) => closeQueue(queue)));
  }
}
