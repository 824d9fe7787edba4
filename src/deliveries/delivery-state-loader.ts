import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AttemptTrigger } from './delivery.entity';

/** What an attempt needs of its delivery and event. */
export interface DeliveryState {
  id: string;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  next_trigger: AttemptTrigger;
  payload: string;
  source_headers: Record<string, string> | null;
}

interface Waiting {
  id: string;
  resolve: (state: DeliveryState | undefined) => void;
  reject: (error: unknown) => void;
}

/** The most ids one query looks up. */
export const LOAD_BATCH_MAX = 500;

/**
 * Loads delivery states for jobs that start together in one query: ids asked for in the same tick, or
 * while the previous query runs, share the next one (`WHERE d.id = ANY($1)`). Reads only, so nothing is
 * held back from durability; a failed query fails each of its callers, as a failed lookup of one would.
 */
@Injectable()
export class DeliveryStateLoader {
  private waiting: Waiting[] = [];
  private loading = false;
  private scheduled = false;
  batchMax = LOAD_BATCH_MAX;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The delivery's state, or undefined if it does not exist (purged). */
  load(id: string): Promise<DeliveryState | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id, resolve, reject });
      if (!this.loading && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.next();
        });
      }
    });
  }

  private next(): void {
    if (this.loading || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.batchMax);
    this.loading = true;
    void this.query([...new Set(batch.map((w) => w.id))])
      .then(
        (states) => batch.forEach((w) => w.resolve(states.get(w.id))),
        (error) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        this.loading = false;
        this.next();
      });
  }

  private async query(ids: string[]): Promise<Map<string, DeliveryState>> {
    const rows: DeliveryState[] = await this.db.query(
      `SELECT d.id, d.event_id, d.endpoint_id, d.event_type, d.status, d.attempt_count, d.next_trigger, e.payload, e.source_headers
       FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ANY($1::varchar[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }
}
