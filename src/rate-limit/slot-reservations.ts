import { Injectable } from '@nestjs/common';
import { EndpointRateLimiter } from './rate-limiter';

interface Waiter {
  resolve: (delayMs: number) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  limitPerSecond: number;
  waiters: Waiter[];
}

/**
 * Send-slot reservations for one endpoint asked for in the same tick share one Redis call (a run of
 * consecutive slots), so a backlog of a rate-limited endpoint costs one round trip per batch, not per job.
 */
@Injectable()
export class SlotReservations {
  private readonly pending = new Map<string, Batch>();

  constructor(private readonly limiter: EndpointRateLimiter) {}

  /** The wait (ms) for this caller's slot, as `EndpointRateLimiter.reserveEndpointSlot` gives it. */
  reserve(endpointId: string, limitPerSecond: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(endpointId);
      if (!batch || batch.limitPerSecond !== limitPerSecond) {
        if (batch) this.flush(endpointId, batch);
        batch = { limitPerSecond, waiters: [] };
        this.pending.set(endpointId, batch);
        const started = batch;
        setImmediate(() => this.flush(endpointId, started));
      }
      batch.waiters.push({ resolve, reject });
    });
  }

  private flush(endpointId: string, batch: Batch): void {
    if (this.pending.get(endpointId) === batch) this.pending.delete(endpointId);
    if (batch.waiters.length === 0) return;
    const waiters = batch.waiters.splice(0);
    this.limiter.reserveEndpointSlots(endpointId, batch.limitPerSecond, waiters.length).then(
      (delays) => waiters.forEach((w, i) => w.resolve(delays[i])),
      (error) => waiters.forEach((w) => w.reject(error)),
    );
  }
}
