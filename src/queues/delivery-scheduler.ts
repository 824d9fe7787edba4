import { Inject, Injectable, Logger } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { EnqueueReason, laneOf } from './delivery-lanes';
import { DELIVERY_QUEUES, DeferredSlot, DeliveryJob, DeliveryQueues, EnqueueItem, RoutedItem, deferDelivery, deliveryJobId, enqueueDeliveries, jobsInRedis, shardOf } from './delivery-queues';

/** The longest a caller waits for Redis before it goes on without it (the sweeper enqueues from PostgreSQL). */
export const ENQUEUE_WAIT_MS = 500;

/**
 * The one place that puts attempts on the queues: publishing, retries, deferrals, resends, test sends, replays,
 * hand-backs and the sweeper. It picks each job's lane (laneOf: live, or bulk for replays, re-offers and bursts).
 * Every enqueue follows a committed row (PostgreSQL is the truth), so none of them is ever required: when
 * Redis is not ready, or slower than ENQUEUE_WAIT_MS, the caller goes on and the sweeper offers the row later.
 */
@Injectable()
export class DeliveryScheduler {
  private readonly logger = new Logger(DeliveryScheduler.name);

  constructor(
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** Redis answers commands now. One check for every enqueue and for the sweeper (every queue shares the connection). */
  ready(): boolean {
    return this.queues[0]?.live.client.status === 'ready';
  }

  /** Queues attempts (fresh deliveries, retries, resends); resolves once they are queued or given up to the sweeper. */
  dispatch(items: EnqueueItem[], why: EnqueueReason): Promise<void> {
    if (items.length === 0 || !this.ready()) return Promise.resolve();
    return this.bounded(enqueueDeliveries(this.queues, this.route(items, why)), why);
  }

  /**
   * The sweeper's re-offers of overdue deliveries; resolves to how many it offered. What Redis still holds a job for
   * is left where it is: a backlog that merely takes longer than the sweep's grace to drain is overdue too, and
   * re-adding all of it at every sweep cost an addJob script per row and a duplicate in the bulk lane of each job
   * waiting in the live lane. Husks are removed first (jobsInRedis), so what they held is offered. When Redis does
   * not answer within ENQUEUE_WAIT_MS, the sweep goes on (the next one offers again).
   */
  async reoffer(items: EnqueueItem[]): Promise<number> {
    if (items.length === 0 || !this.ready()) return 0;
    const work = jobsInRedis(this.queues, items).then(async ({ queued, husks }) => {
      if (husks) this.logger.warn(`removed ${husks} job husks (a job hash without data, left by a flush between a fetch and its script); offering their deliveries again`);
      const lost = items.filter((_, i) => !queued[i]);
      await enqueueDeliveries(this.queues, this.route(lost, 'sweep'));
      return lost.length;
    });
    return this.bounded(work, 'sweep', 0);
  }

  /**
   * Queues the new heads of lines whose head just finished (ordered delivery), under their own job ids: the
   * attempt's ordinary job may be running right now, about to find the delivery still waiting and drop.
   */
  release(items: EnqueueItem[]): Promise<void> {
    return this.dispatch(
      items.map((item) => ({ ...item, released: true })),
      'release',
    );
  }

  /**
   * Queues attempts to run now whose retry may already wait, delayed, under the same job id (a resend or a replay
   * of a failed delivery). Retries wait in the live lane: there such a job is promoted (the add was a no-op). An
   * attempt routed to the bulk lane gets a job there too, and the delayed one is left alone: whichever runs first
   * makes the attempt, and the other finds it made (the claim in PostgreSQL lets one through).
   */
  dispatchNow(items: EnqueueItem[], why: 'resend' | 'replay'): Promise<void> {
    if (items.length === 0 || !this.ready()) return Promise.resolve();
    const routed = this.route(items, why);
    const work = enqueueDeliveries(this.queues, routed).then(async () => {
      for (const item of routed) {
        if (item.lane !== 'live') continue;
        const job = await this.queues[shardOf(item.endpointId, this.queues.length)].live.getJob(deliveryJobId(item.deliveryId, item.attempt));
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }
    });
    return this.bounded(work, why);
  }

  /** Re-schedules an attempt that must wait without being made. */
  defer(job: DeliveryJob, delayMs: number, next: DeferredSlot = {}): Promise<void> {
    if (!this.ready()) return Promise.resolve();
    return this.bounded(deferDelivery(this.queues, job, delayMs, next), 'deferral');
  }

  private route(items: EnqueueItem[], why: EnqueueReason): RoutedItem[] {
    const lanes = laneOf(items, why, this.config.bulkThreshold);
    return items.map((item, i) => ({ ...item, lane: lanes[i] }));
  }

  /** The work's answer, or `otherwise` when it failed (logged) or has not answered within ENQUEUE_WAIT_MS. */
  private bounded(work: Promise<void>, what: string): Promise<void>;
  private bounded<T>(work: Promise<T>, what: string, otherwise: T): Promise<T>;
  private bounded<T>(work: Promise<T>, what: string, otherwise?: T): Promise<T | undefined> {
    const logged = work.catch((error: Error) => {
      this.logger.warn(`${what} failed, the sweeper will offer it again: ${error.message}`);
      return otherwise;
    });
    const timeout = new Promise<T | undefined>((resolve) => setTimeout(() => resolve(otherwise), ENQUEUE_WAIT_MS).unref());
    return Promise.race([logged, timeout]);
  }
}
