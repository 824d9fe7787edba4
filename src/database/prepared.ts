import { createHash } from 'node:crypto';
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** A statement PostgreSQL keeps parsed on each connection that has run it, under a name derived from its text. */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

/** The same text always gets the same name, so a statement built per day partition is one prepared statement per day. */
export function prepared(text: string): Prepared {
  return { name: `herald_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
}

/** Each run is planned with its own values; see `runPrepared`. Per session, so set once on each connection. */
const CUSTOM_PLANS = 'SET plan_cache_mode = force_custom_plan';
const customPlans = new WeakSet<PoolClient>();

/**
 * Runs a statement of the delivery path as a named statement on one of the pool's connections, outside any
 * transaction, and returns its rows.
 *
 * Why: these statements are long (a CTE over a dozen arrays) and run hundreds of times a second. Sent unnamed,
 * PostgreSQL parses, analyses and rewrites each run before planning it: measured on a 2-core box, the attempt record
 * cost 1.6–1.8 ms of round trip unnamed against 1.1 ms named, the difference being PostgreSQL's own CPU.
 *
 * Plans stay custom (`plan_cache_mode = force_custom_plan`, set on the connection before its first named statement):
 * each run is planned with its values, so partitions are pruned by the ids it names and estimates are those of an
 * unnamed statement. A generic plan, which PostgreSQL's default would switch to after five runs, is made once with
 * the statistics of that moment and kept: one made while a day partition was nearly empty read the whole partition
 * for every claim once it held a backlog (docs/scaling.md, "Prepared statements").
 */
export async function runPrepared<R>(db: DataSource, statement: Prepared, values: unknown[]): Promise<R[]> {
  return withPoolClient(poolOf(db), async (client) => {
    if (!customPlans.has(client)) {
      await client.query(CUSTOM_PLANS);
      customPlans.add(client);
    }
    const result = await client.query<R & object>({ name: statement.name, text: statement.text, values });
    return result.rows;
  });
}

/** The node-postgres pool under a TypeORM data source. */
export function poolOf(db: DataSource): Pool {
  return (db.driver as PostgresDriver).master as Pool;
}

/** A SQL error of severity ERROR (a constraint, a timeout) ends the statement, not the session; FATAL ends the session. */
function leavesConnectionUsable(error: unknown): boolean {
  return error instanceof DatabaseError && error.severity === 'ERROR';
}

/**
 * Lends `use` one of the pool's connections and takes it back, discarding it if it broke meanwhile.
 *
 * While a connection is lent, the pool no longer listens for its errors: one that the server ends between two queries
 * (a restart, `pg_terminate_backend`) emits `error` with no listener, which ends the process. So this listens while it
 * lends, as TypeORM's query runners do, and hands the pool that error so that it drops the connection. A query that
 * failed for any reason but a plain SQL error drops it too: the server's "terminating connection" reaches the query
 * before the socket closes, and the pool would otherwise lend the dying connection to the next caller.
 */
export async function withPoolClient<R>(pool: Pool, use: (client: PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    return await use(client);
  } catch (error) {
    if (!leavesConnectionUsable(error)) broken ??= error as Error;
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
