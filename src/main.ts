import 'reflect-metadata';
import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'pino';
import { startTracing } from './tracing/tracing';
import { createApp, runMigrations } from './bootstrap';
import { DeliveryProcessor } from './deliveries/delivery.processor';
import { ConfigError, loadConfig } from './config/config';
import { nestLogger, rootLogger } from './logging/log-format';
import { version } from './version';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(undefined, version);
  } catch (error) {
    if (error instanceof ConfigError) {
      rootLogger('info').fatal({ context: 'Herald' }, `configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = rootLogger(config.logLevel).child({ context: 'Herald' });
  // JSON lines from the start (migrations run before the application and its logger exist).
  NestLogger.overrideLogger(nestLogger(config.logLevel));
  // Before Nest: the tracer provider is global and must be there when the first request arrives.
  startTracing(config.tracing, version);
  if (config.migrate && config.role !== 'worker') {
    const applied = await runMigrations(config);
    if (applied.length) log.info(`applied migrations: ${applied.join(', ')}`);
  }
  const app = await createApp(config);
  // A worker stops taking jobs the moment the signal arrives: each job takes milliseconds, so every moment until
  // Nest's shutdown hooks reach the processor would start more attempts.
  const stopTaking = config.role === 'api' ? () => undefined : () => app.get(DeliveryProcessor, { strict: false }).stopTaking();
  stopOnSignals(app, log, config.shutdownGraceMs + STOP_MARGIN_MS, stopTaking);
  const port = config.role === 'worker' ? config.metricsPort : config.port;
  await app.listen(port, config.host);
  log.info(`Herald ${version} (${config.role}) listening on ${config.host}:${port}`);
}

/** How long a stop may take beyond the worker's own grace (HERALD_SHUTDOWN_GRACE_MS) before the process exits anyway. */
const STOP_MARGIN_MS = 15_000;

/**
 * SIGTERM/SIGINT: stop accepting requests and jobs, let those in flight finish (bounded), close the
 * connections, exit 0. Nest's own shutdown hooks would re-raise the signal and exit 143 instead, which
 * orchestrators read as a crash.
 */
function stopOnSignals(app: INestApplication, log: Logger, deadlineMs: number, stopTaking: () => void): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stopTaking();
    log.info(`${signal}: stopping`);
    setTimeout(() => {
      log.error(`did not stop within ${deadlineMs} ms; exiting`);
      process.exit(1);
    }, deadlineMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: Error) => {
  rootLogger('info').fatal({ context: 'Herald', err: error }, 'failed to start');
  process.exit(1);
});
