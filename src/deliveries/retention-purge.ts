import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { LOCKS, withAdvisoryLock } from '../database/advisory-lock';

const EVERY_MS = 3600_000;
const BATCH = 5000;

/**
 * Retention (HERALD_RETENTION_DAYS), in small batches, by one worker process at a time:
 * - attempts older than the retention are deleted (the log);
 * - a delivery still pending when its event passes the retention (parked behind a disabled endpoint, or on a
 *   long retry policy) is dead-lettered with `expired`, so it shows in the dead-letter queue and can be resent;
 * - an event older than the retention is deleted (with its deliveries and attempts) only once none of its
 *   deliveries is pending or changed within the retention: nothing still on its way, or just dead-lettered, goes.
 */
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

  async purge(): Promise<{ events: number; attempts: number; expired: number }> {
    const done = await withAdvisoryLock(this.db, LOCKS.retention, () => this.purgeNow()).catch((error: Error) => {
      this.logger.warn(`retention purge failed, will try again: ${error.message}`);
      return undefined;
    });
    return done ?? { events: 0, attempts: 0, expired: 0 };
  }

  private async purgeNow(): Promise<{ events: number; attempts: number; expired: number }> {
    const days = this.config.retentionDays;
    let events = 0;
    let attempts = 0;
    let expired = 0;
    try {
      for (;;) {
        const [, n] = await this.db.query(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE started_at < now() - make_interval(days => $1) LIMIT ${BATCH})`, [days]);
        attempts += n;
        if (n < BATCH) break;
      }
      // the stats rollup's granules go with the attempts they sum (a few rows per endpoint and hour)
      await this.db.query(`DELETE FROM endpoint_stat_granules WHERE start < now() - make_interval(days => $1)`, [days]);
      for (;;) {
        const [, n] = await this.db.query(
          `UPDATE deliveries SET status = 'dead', last_error = 'expired', next_attempt_at = NULL, resend_requested = false, updated_at = now()
           WHERE id IN (SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id
                        WHERE d.status = 'pending' AND e.created_at < now() - make_interval(days => $1)
                          AND (d.claimed_until IS NULL OR d.claimed_until < now()) LIMIT ${BATCH})`,
          [days],
        );
        expired += n;
        if (n < BATCH) break;
      }
      for (;;) {
        const [, n] = await this.db.query(
          `DELETE FROM events WHERE id IN (
             SELECT e.id FROM events e WHERE e.created_at < now() - make_interval(days => $1)
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND (d.status = 'pending' OR d.updated_at >= now() - make_interval(days => $1)))
             LIMIT ${BATCH})`,
          [days],
        );
        events += n;
        if (n < BATCH) break;
      }
    } finally {
      if (expired) this.logger.warn(`retention: ${expired} deliveries still pending after ${days} days were dead-lettered as expired`);
    }
    return { events, attempts, expired };
  }
}
