import { dayPartition, dayStart, idTime, PartitionedTable } from './partitions';

/** How long a day partition found missing is not named again (partition maintenance may make it meanwhile). */
const MISSING_FOR_MS = 60_000;

/** The names a statement gives the partitioned tables: one day's partitions, or the tables themselves. */
export type Relation = (table: PartitionedTable) => string;

/**
 * The start of the UTC day every id was made on, or undefined when they were made on different days (or one of them
 * is not a well-formed id): the day partition a statement about these rows may name instead of their table.
 */
export function sharedDay(ids: readonly string[]): Date | undefined {
  let day: number | undefined;
  for (const id of ids) {
    const at = idTime(id);
    if (!at) return undefined;
    const start = dayStart(at);
    if (day === undefined) day = start;
    else if (day !== start) return undefined;
  }
  return day === undefined ? undefined : new Date(day);
}

/**
 * The claim names the day partition of the rows it touches rather than the partitioned tables.
 *
 * Why: PostgreSQL plans a statement that reaches `deliveries` or `events` through a join over every partition (ten at
 * least, one more per day of retention), since the ids it looks up are known only when it runs. On a 2-core box that
 * planning was ~2 ms of PostgreSQL's CPU per claim, ten times what the claim costs to run; naming the partition plans
 * one table. (A statement whose rows are given as `id = ANY($1)` needs none of this: PostgreSQL prunes the partitions
 * that cannot hold them while it plans. The claim's join to the events cannot be written so: their ids are known
 * only once the deliveries are claimed.)
 *
 * It is only ever a shortcut: the rows of a day are in that day's partition whenever it exists (a partition cannot be
 * attached over rows DEFAULT holds for its range, see PartitionMaintenance), and when it does not exist (not made yet,
 * or dropped by retention with every row in it) a statement naming it fails with undefined_table before it changes
 * anything. The caller then does the same against the whole tables and calls `forget`: the day is not named again
 * for a minute. Only outside a transaction: a failed statement would abort one.
 */
export class DayRelations {
  private readonly missing = new Map<number, number>();

  /** The relations naming the day partition of these ids; undefined when they span days or that day was found missing. */
  of(ids: readonly string[], now = Date.now()): Relation | undefined {
    const day = sharedDay(ids);
    if (!day) return undefined;
    const until = this.missing.get(day.getTime());
    if (until !== undefined) {
      if (until > now) return undefined;
      this.missing.delete(day.getTime());
    }
    return (table) => `"${dayPartition(table, day).name}"`;
  }

  /** The day of these ids has a partition missing: name the whole tables for it for a while. */
  forget(ids: readonly string[], now = Date.now()): void {
    const day = sharedDay(ids);
    if (day) this.missing.set(day.getTime(), now + MISSING_FOR_MS);
  }
}
