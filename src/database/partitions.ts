import { firstIdAt } from '../deliveries/stats-window';

/**
 * The time-partitioned tables and the id prefix of their rows.
 *
 * Each is `PARTITION BY RANGE (id)`: ids are prefixed ULIDs whose first ten characters after the prefix are the
 * creation time in milliseconds, so a range of ids is a range of time. Partitioning on the id (rather than on
 * created_at / started_at) keeps `PRIMARY KEY (id)` legal, lets every `WHERE id = $1` prune to one partition,
 * and lets id cursors (`id < $cursor`, `id >= firstIdAt(since)`) prune as well. The ids of one table share one
 * prefix, one length and the characters [0-9A-Z], which sort the same in every collation PostgreSQL offers.
 */
export const PARTITIONED_TABLES = { events: 'evt', deliveries: 'dlv', attempts: 'att' } as const;
export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

const DAY_MS = 86_400_000;

/** One day's partition of a table (UTC days). */
export interface DayPartition {
  table: PartitionedTable;
  /** `<table>_pYYYYMMDD` */
  name: string;
  /** The first instant of the day, and of the next one. */
  start: Date;
  end: Date;
  /** The id bounds (from inclusive, to exclusive) of FOR VALUES FROM … TO …. */
  from: string;
  to: string;
}

/** The first instant (epoch ms) of the UTC day of `at`: the day whose partition holds rows made at `at`. */
export function dayStart(at: Date): number {
  return Math.floor(at.getTime() / DAY_MS) * DAY_MS;
}

/** The day partition of `table` holding rows made at `at`. */
export function dayPartition(table: PartitionedTable, at: Date): DayPartition {
  const start = new Date(dayStart(at));
  const end = new Date(start.getTime() + DAY_MS);
  const day = start.toISOString().slice(0, 10).replace(/-/g, '');
  const kind = PARTITIONED_TABLES[table];
  return { table, name: `${table}_p${day}`, start, end, from: firstIdAt(kind, start), to: firstIdAt(kind, end) };
}

/** The DEFAULT partition: rows outside every day partition land there rather than failing their insert. */
export function defaultPartitionName(table: PartitionedTable): string {
  return `${table}_default`;
}

/** The day partitions from `behind` days before `now` to `ahead` days after it, oldest first. */
export function partitionsAround(table: PartitionedTable, now: Date, behind: number, ahead: number): DayPartition[] {
  const out: DayPartition[] = [];
  for (let d = -behind; d <= ahead; d++) out.push(dayPartition(table, new Date(now.getTime() + d * DAY_MS)));
  return out;
}

/** The day partitions holding every instant from `first` to `last`, oldest first. */
export function partitionsBetween(table: PartitionedTable, first: Date, last: Date): DayPartition[] {
  const out: DayPartition[] = [];
  for (let p = dayPartition(table, first); p.start.getTime() <= last.getTime(); p = dayPartition(table, p.end)) out.push(p);
  return out;
}

/** The day partition a partition's name stands for; undefined for the DEFAULT partition or a name of another shape. */
export function parsePartitionName(table: PartitionedTable, name: string): DayPartition | undefined {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!m) return undefined;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(at.getTime())) return undefined;
  const p = dayPartition(table, at);
  return p.name === name ? p : undefined;
}

/** The creation time of a prefixed ULID (`evt_01J…`); undefined for anything else. */
export function idTime(id: string): Date | undefined {
  const m = /^[a-z]+_([0-9A-HJKMNP-TV-Z]{10})/.exec(id);
  if (!m) return undefined;
  let ms = 0;
  for (const c of m[1]) ms = ms * 32 + CROCKFORD.indexOf(c);
  return ms > 8_640_000_000_000_000 ? undefined : new Date(ms);
}
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The partitions retention may consider dropping, oldest first: those whose whole day ended at or before the
 * cutoff (now − retention). Whether a deliveries or events partition really goes depends on what it still holds
 * (see RetentionPurge); an attempts partition past the cutoff always goes.
 */
export function partitionsPastCutoff(table: PartitionedTable, names: string[], cutoff: Date): DayPartition[] {
  return names
    .map((n) => parsePartitionName(table, n))
    .filter((p): p is DayPartition => p !== undefined && p.end.getTime() <= cutoff.getTime())
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** Statement creating a day partition (its indexes follow from the parent's partitioned indexes). */
export function createPartitionSql(p: DayPartition): string {
  return `CREATE TABLE IF NOT EXISTS "${p.name}" PARTITION OF "${p.table}" FOR VALUES FROM ('${p.from}') TO ('${p.to}')`;
}
