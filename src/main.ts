import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, runMigrations } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';
import { version } from './version';

async function main(): Promise<void> {
  const logger = new Logger('Herald');
  let config;
  try {
    config = loadConfig(process.env, version);
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
  const port = config.role === 'worker' ? config.metricsPort : config.port;
  await app.listen(port, config.host);
  logger.log(`Herald ${version} (${config.role}) listening on ${config.host}:${port}`);
}

main().catch((error: Error) => {
  console.error(`herald: failed to start: ${error.message}`);
  process.exit(1);
});
