import 'reflect-metadata';
import { runMigrations } from './bootstrap';
import { loadConfig } from './config/config';
import { version } from './version';

runMigrations(loadConfig(undefined, version)).then(
  (applied) => {
    console.warn(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
    process.exit(0);
  },
  (error: Error) => {
    console.error(`migration failed: ${error.message}`);
    process.exit(1);
  },
);
