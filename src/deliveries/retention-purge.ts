import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ADVISORY_LOCKS, AdvisoryLock } from '../database/advisory-lock';

const EVERY_MS = 3600_000;
const BATCH = 5000;

/** Deletes events (with their deliveries and attempts) and attempts older than HERALD_RETENTION_DAYS, in small batches. */
@Injectable()
export class RetentionPurge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionPurge.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One worker process purges at a time; the others skip that hour's run. */
  async purge(): Promise<{ events: number; attempts: number }> {
    const done = await new AdvisoryLock(this.db, ADVISORY_LOCKS.retentionPurge).exclusively(() => this.deleteExpired());
    return done === 'skipped' ? { events: 0, attempts: 0 } : done;
  }

  private async deleteExpired(): Promise<{ events: number; attempts: number }> {
    const days = this.config.retentionDays;
    let events = 0;
    let attempts = 0;
    try {
      for (;;) {
        const [, n] = await this.db.query(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE started_at < now() - make_interval(days => $1) LIMIT ${BATCH})`, [days]);
        attempts += n;
        if (n < BATCH) break;
      }
      for (;;) {
        const [, n] = await this.db.query(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < now() - make_interval(days => $1) LIMIT ${BATCH})`, [days]);
        events += n;
        if (n < BATCH) break;
      }
    } catch (error) {
      this.logger.warn(`retention purge failed, will try again: ${(error as Error).message}`);
    }
    return { events, attempts };
  }
}
