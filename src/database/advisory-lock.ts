import { DataSource } from 'typeorm';

/** Advisory lock keys: one per kind of periodic work that one process at a time should do. */
export const LOCKS = { sweeper: 7_313_001, retention: 7_313_002, partitions: 7_313_003 } as const;

/**
 * Runs `work` only if no other process holds the lock (a PostgreSQL session advisory lock, on a connection of
 * its own for the duration); answers undefined when another process has it. A process that dies frees it with
 * its connection.
 */
export async function withAdvisoryLock<T>(db: DataSource, key: number, work: () => Promise<T>): Promise<T | undefined> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }]: { locked: boolean }[] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (!locked) return undefined;
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
