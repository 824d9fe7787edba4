import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { LOCKS, withAdvisoryLock } from '../database/advisory-lock';
import { Line, releaseLines } from './delivery-store';

const EVERY_MS = 3600_000;
const BATCH = 5000;

/**
 * Retention (HERALD_RETENTION_DAYS), in small batches, by one worker process at a time:
 * - attempts older than the retention are deleted (the log);
 * - a delivery still pending when its event passes the retention (parked behind a disabled endpoint, or on a
 *   long retry policy) is dead-lettered with `expired`, so it shows in the dead-letter queue and can be resent;
 * - an event older than the retention is deleted (with its deliveries and attempts) only once none of its
 *   deliveries is pending or changed within the retention: nothing still on its way, or just dead-lettered, goes;
 * - an ordering line (src/deliveries/ordering-line.entity.ts) not published to within the retention and with no
 *   delivery pending in it is forgotten: its next publish starts it again at place 1, which orders correctly since
 *   nothing of it is pending. A publish that touches the line meanwhile moves its updated_at, which the DELETE
 *   checks again on the row it locks, so a line in use is never dropped from under a pending delivery.
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
      for (;;) {
        // An expired head of an ordered line releases its line in the same transaction, like any finish (see
        // releaseLines); the new head is due now and the sweeper offers it.
        const n = await this.db.transaction(async (tx) => {
          const [rows]: [{ endpoint_id: string; ordering_key: string | null }[], number] = await tx.query(
            `UPDATE deliveries SET status = 'dead', last_error = 'expired', next_attempt_at = NULL, resend_requested = false, updated_at = now()
             WHERE id IN (SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id
                          WHERE d.status = 'pending' AND e.created_at < now() - make_interval(days => $1)
                            AND (d.claimed_until IS NULL OR d.claimed_until < now()) LIMIT ${BATCH})
             RETURNING endpoint_id, CASE WHEN ordering_seq IS NOT NULL THEN ordering_key END AS ordering_key`,
            [days],
          );
          const lines = new Map<string, Line>();
          for (const r of rows) if (r.ordering_key !== null) lines.set(`${r.endpoint_id}\u0000${r.ordering_key}`, { endpointId: r.endpoint_id, orderingKey: r.ordering_key });
          await releaseLines(tx, [...lines.values()]);
          return rows.length;
        });
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
      for (;;) {
        const [, n] = await this.db.query(
          `DELETE FROM ordering_lines WHERE updated_at < now() - make_interval(days => $1) AND (endpoint_id, ordering_key) IN (
             SELECT l.endpoint_id, l.ordering_key FROM ordering_lines l WHERE l.updated_at < now() - make_interval(days => $1)
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = l.endpoint_id AND d.ordering_key = l.ordering_key
                                 AND d.status = 'pending' AND d.ordering_seq IS NOT NULL)
             LIMIT ${BATCH})`,
          [days],
        );
        if (n < BATCH) break;
      }
    } finally {
      if (expired) this.logger.warn(`retention: ${expired} deliveries still pending after ${days} days were dead-lettered as expired`);
    }
    return { events, attempts, expired };
  }
}
