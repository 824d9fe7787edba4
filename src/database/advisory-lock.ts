import { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';

/** First half of every Herald advisory lock key ("HRLD"), so they cannot meet another application's. */
const NAMESPACE = 0x48524c44;

/** One lock per background job that only one process of an installation should run at a time. */
export const ADVISORY_LOCKS = { sweeper: 1, retentionPurge: 2 } as const;

/**
 * A PostgreSQL session advisory lock, held on a connection of its own. PostgreSQL frees it when that
 * connection ends, so a process that dies (or loses PostgreSQL) lets another take over at its next try.
 * Advisory locks are per database: installations (and test runs) with their own databases never meet.
 */
export class AdvisoryLock {
  private readonly logger = new Logger(AdvisoryLock.name);
  private holder?: QueryRunner;

  constructor(
    private readonly db: DataSource,
    private readonly key: number,
  ) {}

  /**
   * Leadership: true while this process holds the lock, taking it when it is free. Called before each
   * run of the job; costs one round trip while held (the check that the holding connection is alive).
   */
  async hold(): Promise<boolean> {
    try {
      if (this.holder) {
        await this.holder.query('SELECT 1');
        return true;
      }
      const runner = this.db.createQueryRunner();
      try {
        await runner.connect();
        const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [NAMESPACE, this.key])) as { locked: boolean }[];
        if (locked) {
          this.holder = runner;
          return true;
        }
      } catch (error) {
        await runner.release().catch(() => undefined);
        throw error;
      }
      await runner.release();
      return false;
    } catch (error) {
      this.logger.warn(`advisory lock ${this.key}: ${(error as Error).message}`);
      await this.release();
      return false;
    }
  }

  /** Gives the lock up (shutdown, or a broken holding connection). */
  async release(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    if (!holder) return;
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [NAMESPACE, this.key]).catch(() => undefined);
    await holder.release().catch(() => undefined);
  }

  /** Runs `work` unless another process is running it now; `skipped` when it was. */
  async exclusively<T>(work: () => Promise<T>): Promise<T | 'skipped'> {
    if (!(await this.hold())) return 'skipped';
    try {
      return await work();
    } finally {
      await this.release();
    }
  }
}
