import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { LOCKS, withAdvisoryLock } from '../database/advisory-lock';
import { DDL_LOCK_TIMEOUT, partitionNames } from '../database/partition-maintenance';
import { DayPartition, partitionsPastCutoff } from '../database/partitions';
import { firstIdAt } from './stats-window';
import { Line, releaseLines } from './delivery-store';

const EVERY_MS = 3600_000;
const BATCH = 5000;
const DAY_MS = 86_400_000;

export interface PurgeResult {
  /** Day partitions dropped, by name. */
  dropped: string[];
  /** Day partitions past the retention that were kept, by name, because of what they still hold. */
  kept: string[];
  /** Pending deliveries dead-lettered as `expired`. */
  expired: number;
  /** Idempotency keys released (older than 24 h). */
  released: number;
}

const KEY_LIFETIME_MS = 86_400_000;

/**
 * Retention (HERALD_RETENTION_DAYS), by one worker process at a time, once an hour. events, deliveries and attempts
 * are partitioned a day a partition (PartitionMaintenance): retention drops whole days, never deletes rows one by one.
 * Idempotency keys older than 24 h are released first. Then, with cutoff = now − retention:
 * 1. a delivery still pending when its event passes the cutoff (parked behind a disabled endpoint, or on a long
 *    retry policy) is dead-lettered with `expired`, so it shows in the dead-letter queue and can be resent; this
 *    touches it (updated_at), which keeps it, as below, for one more retention period;
 * 2. an attempts partition whose day ended before the cutoff is dropped (the log);
 * 3. a deliveries partition whose day ended before the cutoff is dropped once none of its rows is pending or changed
 *    since the cutoff: nothing still on its way, or just dead-lettered, goes;
 * 4. an events partition whose day ended before the cutoff is dropped once no delivery of its events (in whatever
 *    partition: a replay makes new deliveries of old events) is pending or changed since the cutoff; deliveries of
 *    its events left in partitions kept for other rows go with it, with their attempts.
 * A kept partition is looked at again at every run; as the rows that held it are at most one retention period old
 * once expired, a partition lives at most about twice the retention.
 * Ordering lines (src/deliveries/ordering-line.entity.ts) not published to within the retention and with no
 * delivery pending in them are forgotten: a line's next publish starts it again at place 1, which orders correctly
 * since nothing of it is pending. A publish that touches the line meanwhile moves its updated_at, which the DELETE
 * checks again on the row it locks, so a line in use is never dropped from under a pending delivery.
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

  async purge(now = new Date()): Promise<PurgeResult> {
    const done = await withAdvisoryLock(this.db, LOCKS.retention, () => this.purgeNow(now)).catch((error: Error) => {
      this.logger.warn(`retention purge failed, will try again: ${error.message}`);
      return undefined;
    });
    return done ?? { dropped: [], kept: [], expired: 0, released: 0 };
  }

  private async purgeNow(now: Date): Promise<PurgeResult> {
    const days = this.config.retentionDays;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const result: PurgeResult = { dropped: [], kept: [], expired: 0, released: 0 };
    try {
      result.released = await this.releaseKeys(now);
      result.expired = await this.expire(now, cutoff);
      for (const p of partitionsPastCutoff('attempts', await partitionNames(this.db, 'attempts'), cutoff)) await this.drop(p, result);
      // the stats rollup's granules go with the attempts they sum (a few rows per endpoint and hour)
      await this.db.query(`DELETE FROM endpoint_stat_granules WHERE start < $1`, [cutoff]);
      for (const p of partitionsPastCutoff('deliveries', await partitionNames(this.db, 'deliveries'), cutoff)) {
        const [{ held }]: { held: boolean }[] = await this.db.query(
          `SELECT EXISTS (SELECT 1 FROM "${p.name}" WHERE status = 'pending' OR updated_at >= $1) AS held`,
          [cutoff],
        );
        if (held) result.kept.push(p.name);
        else await this.drop(p, result);
      }
      for (const p of partitionsPastCutoff('events', await partitionNames(this.db, 'events'), cutoff)) {
        const [{ held }]: { held: boolean }[] = await this.db.query(
          `SELECT EXISTS (SELECT 1 FROM deliveries WHERE event_id >= $1 AND event_id < $2 AND (status = 'pending' OR updated_at >= $3)) AS held`,
          [p.from, p.to, cutoff],
        );
        if (held) result.kept.push(p.name);
        else await this.drop(p, result);
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
      if (result.expired) this.logger.warn(`retention: ${result.expired} deliveries still pending after ${days} days were dead-lettered as expired`);
      if (result.kept.length) this.logger.log(`retention: kept ${result.kept.join(', ')} past ${days} days (pending or recently changed deliveries)`);
    }
    return result;
  }

  /**
   * Idempotency keys older than 24 h are released: their row in event_idempotency_keys goes and their event's
   * idempotency_key is cleared (a key reused after 24 h is released by the publish itself; this keeps the table small).
   */
  private async releaseKeys(now: Date): Promise<number> {
    let released = 0;
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        // A DELETE answers [rows, count].
        const [gone]: [{ event_id: string }[], number] = await tx.query(
          `DELETE FROM event_idempotency_keys WHERE (tenant_id, key) IN (SELECT tenant_id, key FROM event_idempotency_keys WHERE created_at < $1 LIMIT ${BATCH}) RETURNING event_id`,
          [new Date(now.getTime() - KEY_LIFETIME_MS)],
        );
        const ids = gone.map((g) => g.event_id);
        if (ids.length) await tx.query(`UPDATE events SET idempotency_key = NULL WHERE id = ANY($1) AND idempotency_key IS NOT NULL`, [ids]);
        return ids.length;
      });
      released += n;
      if (n < BATCH) return released;
    }
  }

  /**
   * Step 1: what is still pending of events older than the cutoff becomes dead, `expired` (not while an attempt
   * runs). An expired head of an ordered line releases its line in the same transaction, like any finish (see
   * releaseLines); the new head is due now and the sweeper offers it.
   */
  private async expire(now: Date, cutoff: Date): Promise<number> {
    let expired = 0;
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        const [rows]: [{ endpoint_id: string; ordering_key: string | null }[], number] = await tx.query(
          `UPDATE deliveries SET status = 'dead', last_error = 'expired', next_attempt_at = NULL, resend_requested = false, updated_at = $2
           WHERE id IN (SELECT d.id FROM deliveries d
                        WHERE d.status = 'pending' AND d.event_id < $1
                          AND (d.claimed_until IS NULL OR d.claimed_until < $2) LIMIT ${BATCH})
           RETURNING endpoint_id, CASE WHEN ordering_seq IS NOT NULL THEN ordering_key END AS ordering_key`,
          [firstIdAt('evt', cutoff), now],
        );
        const lines = new Map<string, Line>();
        for (const r of rows) if (r.ordering_key !== null) lines.set(`${r.endpoint_id}\u0000${r.ordering_key}`, { endpointId: r.endpoint_id, orderingKey: r.ordering_key });
        await releaseLines(tx, [...lines.values()]);
        return rows.length;
      });
      expired += n;
      if (n < BATCH) return expired;
    }
  }

  /**
   * Drops one day partition (a brief exclusive lock on its parent, given up after DDL_LOCK_TIMEOUT: the next run
   * tries again). An events partition takes with it the deliveries of its events that other partitions still hold.
   */
  private async drop(p: DayPartition, result: PurgeResult): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
        if (p.table === 'events') {
          // Two statements, so that the attempts are found through their delivery_id index, not by a join over them all.
          const [gone]: [{ id: string }[], number] = await tx.query(`DELETE FROM deliveries WHERE event_id >= $1 AND event_id < $2 RETURNING id`, [p.from, p.to]);
          if (gone.length) await tx.query(`DELETE FROM attempts WHERE delivery_id = ANY($1)`, [gone.map((g) => g.id)]);
        }
        await tx.query(`DROP TABLE "${p.name}"`);
      });
      result.dropped.push(p.name);
    } catch (error) {
      this.logger.warn(`retention: could not drop ${p.name} now, will try again: ${(error as Error).message}`);
      result.kept.push(p.name);
    }
  }
}
