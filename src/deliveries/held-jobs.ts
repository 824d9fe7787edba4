import { Injectable } from '@nestjs/common';
import { DeliveryJob } from '../queues/delivery-queues';

/**
 * The jobs a worker process took from the queues and holds while their endpoints wait for a place in its budget
 * (see DeliveryWorker.take). Shared with the sweeper, which does not offer again what this process holds: a held
 * job is unclaimed and overdue, so it would otherwise be re-queued, fetched and dropped on every sweep.
 */
@Injectable()
export class HeldJobs {
  private readonly jobs = new Map<string, DeliveryJob>();

  get size(): number {
    return this.jobs.size;
  }

  has(deliveryId: string, attempt: number): boolean {
    return this.jobs.has(key(deliveryId, attempt));
  }

  add(job: DeliveryJob): void {
    this.jobs.set(key(job.deliveryId, job.attempt), job);
  }

  /** Whether it was still held (false: taken back by `takeAll` meanwhile). */
  delete(job: DeliveryJob): boolean {
    return this.jobs.delete(key(job.deliveryId, job.attempt));
  }

  /** Every held job, no longer held. */
  takeAll(): DeliveryJob[] {
    const all = [...this.jobs.values()];
    this.jobs.clear();
    return all;
  }
}

const key = (deliveryId: string, attempt: number) => `${deliveryId}:${attempt}`;
