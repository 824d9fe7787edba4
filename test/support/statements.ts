import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { poolOf } from '../../src/database/prepared';

/** What a statement is: its text and values, and whether it went as a named statement (src/database/prepared.ts). */
export interface Sent {
  text: string;
  values: unknown[] | undefined;
  named: boolean;
}

/**
 * A DataSource for the code under test that sends every statement through `db`, telling `onSent` first: the unnamed
 * ones (`query`) and the named ones, which the code runs on a connection of the pool. `onSent` may answer rows
 * instead of the database (a named statement's) or throw, as the database would.
 */
export function intercepting(db: DataSource, onSent: (sent: Sent) => Promise<unknown[] | undefined> | void): DataSource {
  const pool = poolOf(db);
  const spy = Object.create(db) as DataSource;
  spy.query = (async (text: string, values?: unknown[]) => {
    await onSent({ text, values, named: false });
    return db.query(text, values);
  }) as DataSource['query'];
  const connect = async (): Promise<PoolClient> => {
    const client = await pool.connect();
    const query = async (config: string | QueryConfig, values?: unknown[]): Promise<QueryResult> => {
      if (typeof config === 'string' || !config.name) return client.query(config as string, values);
      const answered = await onSent({ text: config.text, values: config.values, named: true });
      return answered ? ({ rows: answered } as QueryResult) : client.query(config);
    };
    return Object.assign(Object.create(client) as PoolClient, { query, release: (err?: Error | boolean) => client.release(err) });
  };
  const driver = Object.create(db.driver) as PostgresDriver;
  driver.master = Object.assign(Object.create(pool) as Pool, { connect });
  Object.defineProperty(spy, 'driver', { value: driver });
  return spy;
}
