import 'reflect-metadata';
import { runMigrations } from './bootstrap';
import { loadToolConfig } from './config/config';
import { version } from './version';

/** `npm run migrate`: applies pending migrations and exits; needs only DATABASE_URL. */
Promise.resolve()
  .then(() => runMigrations(loadToolConfig(undefined, version)))
  .then(
    (applied) => {
      console.warn(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
      process.exit(0);
    },
    (error: Error) => {
      console.error(`migration failed: ${error.message}`);
      process.exit(1);
    },
  );
