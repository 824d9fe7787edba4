import { Inject, Injectable, Logger } from '@nestjs/common';
import { DELIVERY_QUEUES, DeferredSlot, DeliveryJob, DeliveryQueues, EnqueueItem, deferDelivery, deliveryJobId, enqueueDeliveries, shardOf } from './delivery-queues';

/** The longest a caller waits for Redis before it goes on without it (the sweeper enqueues from PostgreSQL). */
export const ENQUEUE_WAIT_MS = 500;

/**
 * The one place that puts attempts on the queues: publishing, retries, deferrals, resends and the sweeper.
 * Every enqueue follows a committed row (PostgreSQL is the truth), so none of them is ever required: when
 * Redis is not ready, or slower than ENQUEUE_WAIT_MS, the caller goes on and the sweeper offers the row later.
 */
@Injectable()
export class DeliveryScheduler {
  private readonly logger = new Logger(DeliveryScheduler.name);

  constructor(@Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues) {}

  /** Redis answers commands now. One check for every enqueue and for the sweeper. */
  ready(): boolean {
    return this.queues[0]?.client.status === 'ready';
  }

  /** Queues attempts (fresh deliveries, retries, resends); resolves once they are queued or given up to the sweeper. */
  dispatch(items: EnqueueItem[], what = 'enqueue'): Promise<void> {
    if (items.length === 0 || !this.ready()) return Promise.resolve();
    return this.bounded(enqueueDeliveries(this.queues, items), what);
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
   * Queues attempts to run now: a retry already waiting delayed under the same job id is promoted instead
   * (a resend of a failed delivery).
   */
  dispatchNow(items: EnqueueItem[]): Promise<void> {
    if (items.length === 0 || !this.ready()) return Promise.resolve();
    const work = enqueueDeliveries(this.queues, items).then(async () => {
      for (const item of items) {
        const job = await this.queues[shardOf(item.endpointId, this.queues.length)].getJob(deliveryJobId(item.deliveryId, item.attempt));
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }
    });
    return this.bounded(work, 'resend');
  }

  /** Re-schedules an attempt that must wait without being made. */
  defer(job: DeliveryJob, delayMs: number, next: DeferredSlot = {}): Promise<void> {
    if (!this.ready()) return Promise.resolve();
    return this.bounded(deferDelivery(this.queues, job, delayMs, next), 'deferral');
  }

  private bounded(work: Promise<void>, what: string): Promise<void> {
    const logged = work.catch((error: Error) => this.logger.warn(`${what} failed, the sweeper will offer it again: ${error.message}`));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, ENQUEUE_WAIT_MS).unref());
    return Promise.race([logged, timeout]);
  }
}
