import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LOCKS, withAdvisoryLock } from './advisory-lock';
import { DayPartition, PARTITIONED_TABLES, PartitionedTable, createPartitionSql, defaultPartitionName, idTime, partitionsAround, partitionsBetween } from './partitions';

const EVERY_MS = 3600_000;
/** Days of partitions made ahead: a worker may be down this long before rows start landing in DEFAULT. */
export const PARTITION_DAYS_AHEAD = 7;
/** Yesterday's too, so a process whose clock is a little behind never writes into DEFAULT. */
const DAYS_BEHIND = 1;
/** DDL on a partitioned table waits for its lock this long at most (the next run tries again), never queueing readers behind it for longer. */
export const DDL_LOCK_TIMEOUT = '1s';

/** The day partitions a table has now (by name), DEFAULT left out. */
export async function partitionNames(db: DataSource, table: PartitionedTable): Promise<string[]> {
  const rows: { name: string }[] = await db.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass AND c.relname <> $2`,
    [table, defaultPartitionName(table)],
  );
  return rows.map((r) => r.name);
}

/**
 * Keeps a partition a day ahead of time for events, deliveries and attempts, in the worker role, once an hour and at
 * start, by one process at a time (advisory lock). Rows that landed in a DEFAULT partition (no partition for their day
 * yet: workers down for more than PARTITION_DAYS_AHEAD days, a clock far off) are moved into their day's partition,
 * so that DEFAULT stays empty and retention only ever drops whole partitions.
 */
@Injectable()
export class PartitionMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionMaintenance.name);
  private timer?: NodeJS.Timeout;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onApplicationBootstrap(): void {
    void this.maintain();
    this.timer = setInterval(() => void this.maintain(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One run: the partitions made (by name) and the rows moved out of DEFAULT; nothing when another process holds the run. */
  async maintain(now = new Date()): Promise<{ created: string[]; moved: number }> {
    const done = await withAdvisoryLock(this.db, LOCKS.partitions, () => this.maintainNow(now)).catch((error: Error) => {
      this.logger.warn(`partition maintenance failed, will try again: ${error.message}`);
      return undefined;
    });
    return done ?? { created: [], moved: 0 };
  }

  private async maintainNow(now: Date): Promise<{ created: string[]; moved: number }> {
    const created: string[] = [];
    let moved = 0;
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
      const existing = new Set(await partitionNames(this.db, table));
      const wanted = new Map(partitionsAround(table, now, DAYS_BEHIND, PARTITION_DAYS_AHEAD).map((p) => [p.name, p]));
      for (const p of await this.daysInDefault(table)) wanted.set(p.name, p);
      for (const p of wanted.values()) {
        if (existing.has(p.name)) continue;
        moved += await this.create(p);
        created.push(p.name);
      }
    }
    if (moved) this.logger.warn(`partitions: ${moved} rows found in DEFAULT partitions were moved into their day's partition`);
    return { created, moved };
  }

  /** The days of the rows in a table's DEFAULT partition (none, normally). */
  private async daysInDefault(table: PartitionedTable): Promise<DayPartition[]> {
    const kind = PARTITIONED_TABLES[table];
    // Only well-formed ids of the table's kind: anything else stays in DEFAULT, where no partition would take it.
    const [{ first, last }]: { first: string | null; last: string | null }[] = await this.db.query(
      `SELECT min(id) AS first, max(id) AS last FROM "${defaultPartitionName(table)}" WHERE id ~ $1`,
      [`^${kind}_[0-9A-HJKMNP-TV-Z]{26}$`],
    );
    const from = first ? idTime(first) : undefined;
    const to = last ? idTime(last) : undefined;
    return from && to ? partitionsBetween(table, from, to) : [];
  }

  /**
   * Makes one day partition; answers the rows it took from DEFAULT. A partition cannot be attached over rows that
   * DEFAULT holds for its range, so when there are some, it is made as a plain table, they move into it, and it is
   * attached, in one transaction.
   */
  private async create(p: DayPartition): Promise<number> {
    const fallback = defaultPartitionName(p.table);
    return this.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
      const [{ stray }]: { stray: boolean }[] = await tx.query(`SELECT EXISTS (SELECT 1 FROM "${fallback}" WHERE id >= $1 AND id < $2) AS stray`, [p.from, p.to]);
      if (!stray) {
        await tx.query(createPartitionSql(p));
        return 0;
      }
      await tx.query(`CREATE TABLE "${p.name}" (LIKE "${p.table}" INCLUDING DEFAULTS)`);
      const [{ n }]: { n: number }[] = await tx.query(
        `WITH moved AS (DELETE FROM "${fallback}" WHERE id >= $1 AND id < $2 RETURNING *),
              kept AS (INSERT INTO "${p.name}" SELECT * FROM moved RETURNING 1)
         SELECT count(*)::int AS n FROM kept`,
        [p.from, p.to],
      );
      await tx.query(`ALTER TABLE "${p.table}" ATTACH PARTITION "${p.name}" FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
      return n;
    });
  }
}
