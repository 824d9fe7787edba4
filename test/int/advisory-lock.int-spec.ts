import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { LOCKS, withAdvisoryLock } from '../../src/database/advisory-lock';
import { createTestDatabase } from '../support/database';

jest.setTimeout(30_000);

/**
 * The sweeper and the retention purge run in every worker process and take a PostgreSQL advisory lock
 * (LOCKS.sweeper, LOCKS.retention) for each run: while one process runs, the others skip. Three data
 * sources here stand for three processes on one database.
 */
describe('withAdvisoryLock across processes', () => {
  let drop: () => Promise<void>;
  let processes: DataSource[];

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    processes = await Promise.all([1, 2, 3].map(() => new DataSource({ ...dataSourceOptions({ databaseUrl: database.url }), logging: false }).initialize()));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.destroy()));
    await drop();
  });

  it.each(Object.entries(LOCKS))('%s: one run at a time; the others skip while it runs and run after it', async (_name, key) => {
    let running = 0;
    let most = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const work = async (wait?: Promise<void>) => {
      running++;
      most = Math.max(most, running);
      await wait;
      running--;
      return 'ran';
    };
    const first = withAdvisoryLock(processes[0], key, () => work(held));
    // Until the first run holds the lock, the others may still get it: wait for PostgreSQL to show it held.
    for (let i = 0; running === 0 && i < 500; i++) await new Promise((r) => setTimeout(r, 20));
    expect(running).toBe(1);
    const others = await Promise.all(processes.slice(1).map((p) => withAdvisoryLock(p, key, () => work())));
    expect(others).toEqual([undefined, undefined]);
    release();
    expect(await first).toBe('ran');
    expect(await withAdvisoryLock(processes[1], key, () => work())).toBe('ran');
    expect(most).toBe(1);
  });

  it('a lock held by a connection that dies is free again (a killed process does not stop the others)', async () => {
    const runner = processes[0].createQueryRunner();
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [LOCKS.sweeper]);
    expect(await withAdvisoryLock(processes[1], LOCKS.sweeper, async () => 'ran')).toBeUndefined();
    const [{ pid }] = await runner.query('SELECT pg_backend_pid() AS pid');
    await processes[2].query('SELECT pg_terminate_backend($1)', [pid]);
    await runner.release().catch(() => undefined);
    let result: string | undefined;
    for (let i = 0; result === undefined && i < 250; i++) {
      result = await withAdvisoryLock(processes[1], LOCKS.sweeper, async () => 'ran');
      if (result === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(result).toBe('ran');
  });
});
