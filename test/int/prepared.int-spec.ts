import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { poolOf, prepared, runPrepared, withPoolClient } from '../../src/database/prepared';
import { openTestDataSource } from '../support/database';

jest.setTimeout(30_000);

/**
 * A connection the server ends while it is lent out, between two queries: what a PostgreSQL restart does to a worker
 * under load. The stop-16 named statements ended the worker this way (an `error` event nobody listened to).
 */
describe('a pool connection ended by the server while lent', () => {
  let close: () => Promise<void>;
  let db: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    ({ db, close } = await openTestDataSource());
    pool = poolOf(db);
  });
  afterAll(async () => {
    await close?.();
  });

  it('is dropped from the pool, the process carries on, and the next statement runs on a new connection', async () => {
    const statement = prepared('SELECT pg_backend_pid() AS pid, $1::int AS n');
    const [{ pid: before }] = await runPrepared<{ pid: number }>(db, statement, [1]);
    const ended = await withPoolClient(pool, async (client) => {
      const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      const gone = new Promise((resolve) => client.once('end', resolve));
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await gone;
      return pid;
    });
    expect(ended).toBe(before);
    const [{ pid: after, n }] = await runPrepared<{ pid: number; n: number }>(db, statement, [2]);
    expect(n).toBe(2);
    expect(after).not.toBe(before);
  });

  it('a statement whose connection ends mid-query rejects with the connection error and leaves the pool usable', async () => {
    const statement = prepared('SELECT pg_sleep(5), $1::int AS n');
    // Handled from the start: it rejects while the terminate below is still being answered, before any later
    // handler could be attached (an unhandled rejection fails the test whatever it asserts).
    const outcome = runPrepared(db, statement, [1]).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    let pid: number | undefined;
    for (let i = 0; pid === undefined && i < 200; i++) {
      // This file's own database only: another run of this test on the same server has a pg_sleep(5) of its own.
      const rows: { pid: number }[] = await db.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(5)%' AND pid <> pg_backend_pid()`,
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await outcome).toMatch(/terminat/i);
    expect(await runPrepared<{ n: number }>(db, prepared('SELECT $1::int AS n'), [3])).toEqual([{ n: 3 }]);
  });
});
