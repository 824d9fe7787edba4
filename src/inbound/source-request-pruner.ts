import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { encodeTime } from 'ulid';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';

/** Requests kept in each source's log; older ones are pruned. */
export const SOURCE_REQUEST_LOG_SIZE = 1000;
const EVERY_MS = 60_000;
/** Sources examined per statement, and rows deleted per statement by age. */
const PAGE = 200;
const BATCH = 5000;
/** Several workers: one prunes at a time (the others skip that run). */
const LOCK_KEY = 0x68657264; // "herd"

// TypeORM answers a SELECT with its rows and a DELETE with [rows, count].
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Query = (sql: string, params: unknown[]) => Promise<any>;

/** The smallest request id that a request received at `ms` can have: ids are ULIDs, time first. */
export function requestIdAt(ms: number): string {
  return `req_${encodeTime(Math.max(0, Math.floor(ms)), 10)}${'0'.repeat(16)}`;
}

/**
 * Keeps each source's request log bounded, in the worker role, once a minute: the newest
 * SOURCE_REQUEST_LOG_SIZE rows per source, none older than HERALD_RETENTION_DAYS. Both rules are id
 * thresholds on existing indexes (the primary key; source_id + id), so the ingest path never prunes.
 */
@Injectable()
export class SourceRequestPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SourceRequestPruner.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One run; returns the rows deleted (0 when another worker holds the run). */
  async prune(now = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let deleted = 0;
    try {
      const cutoff = requestIdAt(now - this.config.retentionDays * 86_400_000);
      for (let after = ''; ; ) {
        const page = await this.locked(async (q) => {
          const sources: { id: string }[] = await q(`SELECT id FROM sources WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, [after]);
          if (sources.length === 0) return { last: null, n: 0 };
          const [, n] = await q(
            `DELETE FROM source_requests r USING (
               SELECT s.id AS source_id,
                      (SELECT q.id FROM source_requests q WHERE q.source_id = s.id ORDER BY q.id DESC OFFSET $2 LIMIT 1) AS threshold
               FROM unnest($1::varchar[]) AS s(id)) t
             WHERE r.source_id = t.source_id AND r.id <= t.threshold`,
            [sources.map((s) => s.id), SOURCE_REQUEST_LOG_SIZE],
          );
          return { last: sources[sources.length - 1].id, n: n as number };
        });
        if (!page) return 0;
        deleted += page.n;
        if (!page.last) break;
        after = page.last;
      }
      for (;;) {
        const n = await this.locked(async (q) => (await q(`DELETE FROM source_requests WHERE id IN (SELECT id FROM source_requests WHERE id < $1 ORDER BY id LIMIT ${BATCH})`, [cutoff]))[1] as number);
        if (n === null) return deleted;
        deleted += n;
        if (n < BATCH) break;
      }
    } catch (error) {
      this.logger.warn(`could not prune the inbound request logs, will try again: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
    return deleted;
  }

  /** Runs `work` in a short transaction holding the prune lock; null when another worker holds it. */
  private async locked<T>(work: (q: Query) => Promise<T>): Promise<T | null> {
    return this.db.transaction(async (tx) => {
      const [{ ok }]: { ok: boolean }[] = await tx.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK_KEY]);
      if (!ok) return null;
      return work((sql, params) => tx.query(sql, params));
    });
  }
}
