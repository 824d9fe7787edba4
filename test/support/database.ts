import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source';
import { migrations } from '../../src/database/migrations';

/** The server tests run against; TEST_DATABASE_URL names any database on it (default: postgres on 127.0.0.1). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
// One template per set of migrations, so that concurrent test runs share it and a new migration makes a new one.
const TEMPLATE = `herald_test_tpl_${createHash('sha256').update(migrations.map((m) => m.name).join(',')).digest('hex').slice(0, 12)}`;

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Jest globalSetup: one migrated template database, from which each test file clones its own. */
export async function prepareTemplate(): Promise<void> {
  await admin(async (c) => {
    // Serialises concurrent test runs; a half-made template from a crashed run is made again.
    await c.query('SELECT pg_advisory_lock(7313)');
    try {
      const ready = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') = 'ready'`, [TEMPLATE]);
      if (ready.rowCount) return;
      await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${TEMPLATE}`);
      await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: urlFor(TEMPLATE) }));
      await c.query(`COMMENT ON DATABASE ${TEMPLATE} IS 'ready'`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(7313)');
    }
  });
}

/** A fresh, migrated database of this test file's own, so test files never see each other's rows. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `herald_t_${randomBytes(6).toString('hex')}`;
  // Two clones of one template at the same instant can collide ("being accessed by other users"): retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`));
      break;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  return { url: urlFor(name), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** A test file's own database (createTestDatabase) opened as a TypeORM data source; close() closes it, then drops the database. */
export async function openTestDataSource(): Promise<{ db: DataSource; close: () => Promise<void> }> {
  const database = await createTestDatabase();
  try {
    const db = await new DataSource({ ...dataSourceOptions({ databaseUrl: database.url }), logging: false }).initialize();
    return {
      db,
      close: async () => {
        await db.destroy();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}
