import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { createApp, runMigrations } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';
import { version } from './version';

async function main(): Promise<void> {
  const logger = new Logger('Herald');
  let config;
  try {
    config = loadConfig(undefined, version);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herald: configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (config.migrate && config.role !== 'worker') {
    const applied = await runMigrations(config);
    if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
  }
  const app = await createApp(config);
  stopOnSignals(app, logger, config.shutdownGraceMs + STOP_MARGIN_MS);
  const port = config.role === 'worker' ? config.metricsPort : config.port;
  await app.listen(port, config.host);
  logger.log(`Herald ${version} (${config.role}) listening on ${config.host}:${port}`);
}

/** How long a stop may take beyond the worker's own grace (HERALD_SHUTDOWN_GRACE_MS) before the process exits anyway. */
const STOP_MARGIN_MS = 15_000;

/**
 * SIGTERM/SIGINT: stop accepting requests and jobs, let those in flight finish (bounded), close the
 * connections, exit 0. Nest's own shutdown hooks would re-raise the signal and exit 143 instead, which
 * orchestrators read as a crash.
 */
function stopOnSignals(app: INestApplication, logger: Logger, deadlineMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    setTimeout(() => {
      console.error(`herald: did not stop within ${deadlineMs} ms; exiting`);
      process.exit(1);
    }, deadlineMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`herald: error while stopping: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: Error) => {
  console.error(`herald: failed to start: ${error.message}`);
  process.exit(1);
});
