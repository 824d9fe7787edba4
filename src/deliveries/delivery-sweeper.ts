import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ADVISORY_LOCKS, AdvisoryLock } from '../database/advisory-lock';
import { MetricsService } from '../metrics/metrics.service';
import { DELIVERY_QUEUES, DeliveryQueues, enqueueDeliveries } from '../queues/delivery-queues';

const PAGE = 1000;
const PAGES_PER_SWEEP = 20;

/**
 * PostgreSQL is the truth, Redis the transport: every pending delivery overdue by more than the grace
 * period is enqueued again. Job ids are deterministic, so a job still in Redis makes this a no-op,
 * and one that Redis lost (flush, restart, an enqueue that never happened) comes back.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliverySweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Keyset position, so that a large backlog is walked through over several sweeps. */
  private after: { at: Date; id: string } | null = null;
  /** One worker process sweeps; the others stand by and take over when it stops or dies. */
  private leadership?: AdvisoryLock;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
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
    await this.leadership?.release();
  }

  /** One pass; returns how many deliveries were offered to the queues. */
  async sweep(): Promise<number> {
    if (this.queues[0]?.client.status !== 'ready') return 0;
    if (!(await (this.leadership ??= new AdvisoryLock(this.db, ADVISORY_LOCKS.sweeper)).hold())) return 0;
    let offered = 0;
    try {
      for (let page = 0; page < PAGES_PER_SWEEP; page++) {
        const rows: { id: string; endpoint_id: string; attempt_count: number; next_attempt_at: Date }[] = await this.db.query(
          `SELECT id, endpoint_id, attempt_count, next_attempt_at FROM deliveries
           WHERE status = 'pending' AND next_attempt_at < now() - make_interval(secs => $1::float / 1000)
             AND ($2::timestamptz IS NULL OR (next_attempt_at, id) > ($2, $3))
           ORDER BY next_attempt_at, id LIMIT ${PAGE}`,
          [this.config.sweepGraceMs, this.after?.at ?? null, this.after?.id ?? ''],
        );
        if (rows.length) {
          await enqueueDeliveries(this.queues, rows.map((r) => ({ deliveryId: r.id, endpointId: r.endpoint_id, attempt: r.attempt_count + 1 })));
          offered += rows.length;
        }
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
}
