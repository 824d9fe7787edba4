import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { LOCKS, withAdvisoryLock } from '../database/advisory-lock';
import { MetricsService } from '../metrics/metrics.service';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { HeldJobs } from './held-jobs';
import { HEAD_OF_LINE } from './delivery-store';

const PAGE = 1000;
const PAGES_PER_SWEEP = 20;

/**
 * PostgreSQL is the truth, Redis the transport: every pending delivery overdue by more than the grace
 * period, and not claimed by a worker, is enqueued again unless Redis still holds its job (job ids are
 * deterministic: DeliveryScheduler.reoffer asks), so a backlog slower than the grace is left where it is, and a job
 * that Redis lost (flush, restart, an enqueue that never happened, a husk a flush left) comes back.
 * A delivery parked while its endpoint was disabled is made due again once the endpoint is enabled (in case
 * the enabling request's own un-parking raced with a worker that parked it from a stale cache).
 *
 * Ordered delivery: only the head of each line is offered (HEAD_OF_LINE, the claim's own test), never a delivery
 * waiting behind a pending one of its line; so after Redis forgets everything, each line gets exactly one job again,
 * and a head whose release enqueue was lost (a worker killed between the commit and the enqueue) is offered here.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliverySweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Keyset position, so that a large backlog is walked through over several sweeps. */
  private after: { at: Date; id: string } | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly scheduler: DeliveryScheduler,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
    private readonly held: HeldJobs,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().then(() => (this.running = undefined));
    }, this.config.sweepIntervalMs);
    this.timer.unref();
  }

  /** Before the connections close, so that a sweep in progress ends cleanly. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass, by one worker process at a time; returns how many deliveries were offered to the queues. */
  async sweep(): Promise<number> {
    if (!this.scheduler.ready()) return 0;
    const offered = await withAdvisoryLock(this.db, LOCKS.sweeper, () => this.sweepNow()).catch((error: Error) => {
      this.logger.warn(`sweep failed, will try again: ${error.message}`);
      return 0;
    });
    return offered ?? 0;
  }

  private async sweepNow(): Promise<number> {
    let offered = 0;
    try {
      await this.unparkEnabled();
      for (let page = 0; page < PAGES_PER_SWEEP; page++) {
        const rows: { id: string; endpoint_id: string; attempt_count: number; next_attempt_at: Date }[] = await this.db.query(
          `SELECT id, endpoint_id, attempt_count, next_attempt_at FROM deliveries
           WHERE status = 'pending' AND next_attempt_at < now() - make_interval(secs => $1::float / 1000)
             AND (claimed_until IS NULL OR claimed_until < now())
             AND ${HEAD_OF_LINE('deliveries')}
             AND ($2::timestamptz IS NULL OR (next_attempt_at, id) > ($2, $3))
           ORDER BY next_attempt_at, id LIMIT ${PAGE}`,
          [this.config.sweepGraceMs, this.after?.at ?? null, this.after?.id ?? ''],
        );
        // What this process holds, waiting for a place in its budget, is on its way already; so is what Redis still
        // has queued (the scheduler asks it).
        const due = rows.filter((r) => !this.held.has(r.id, r.attempt_count + 1));
        if (due.length) offered += await this.scheduler.reoffer(due.map((r) => ({ deliveryId: r.id, endpointId: r.endpoint_id, attempt: r.attempt_count + 1 })));
        if (rows.length < PAGE) {
          this.after = null;
          break;
        }
        const last = rows[rows.length - 1];
        this.after = { at: last.next_attempt_at, id: last.id };
      }
    } catch (error) {
      this.logger.warn(`sweep failed, will try again: ${(error as Error).message}`);
    }
    if (offered) this.metrics.sweeperRequeued.inc(offered);
    return offered;
  }

  /** Parked deliveries of endpoints that are enabled: due now (the next page of the sweep offers them). */
  private async unparkEnabled(): Promise<void> {
    await this.db.query(
      `UPDATE deliveries d SET next_attempt_at = now() - make_interval(secs => $1::float / 1000), updated_at = now()
       FROM endpoints e
       WHERE d.status = 'pending' AND d.next_attempt_at IS NULL AND e.id = d.endpoint_id AND NOT e.disabled AND e.deleted_at IS NULL
         AND d.id IN (SELECT p.id FROM deliveries p JOIN endpoints pe ON pe.id = p.endpoint_id
                      WHERE p.status = 'pending' AND p.next_attempt_at IS NULL AND NOT pe.disabled AND pe.deleted_at IS NULL LIMIT ${PAGE})`,
      [this.config.sweepGraceMs + 1],
    );
  }
}
