import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadToolConfig } from '../config/config';
import { dataSourceOptions } from './data-source';

/**
 * Fails when the entities and the migrations disagree: applies every migration to a scratch
 * database, then asks TypeORM what it would still change to match the entities.
 */
async function main(): Promise<void> {
  const config = loadToolConfig();
  const scratch = `herald_migration_check_${randomBytes(4).toString('hex')}`;
  const adminUrl = new URL(config.databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${scratch}`);
  const url = new URL(config.databaseUrl);
  url.pathname = `/${scratch}`;
  const db = new DataSource(dataSourceOptions({ databaseUrl: url.toString() }));
  let pending: string[] = [];
  try {
    await db.initialize();
    await db.runMigrations();
    pending = (await db.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
  } finally {
    if (db.isInitialized) await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    await admin.end();
  }
  if (pending.length) {
    console.error('The entities and the migrations disagree. A migration is missing for:');
    for (const q of pending) console.error(`  ${q}`);
    process.exit(1);
  }
  console.warn('migrations match the entities');
}

main().catch((error: Error) => {
  console.error(`migration check failed: ${error.message}`);
  process.exit(1);
});
