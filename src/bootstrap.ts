import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { validationPipe } from './common/validation';
import { HeraldConfig } from './config/config';
import { dataSourceOptions } from './database/data-source';

export async function runMigrations(config: HeraldConfig): Promise<string[]> {
  const db = new DataSource(dataSourceOptions(config));
  await db.initialize();
  try {
    const applied = await db.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await db.destroy();
  }
}

const API_DESCRIPTION = `Herald delivers your events to your tenants' endpoints as signed webhooks.

Choices where the contract is silent:
- Idempotency: a key is remembered per tenant for 24 h. On the batch route an Idempotency-Key header gives each event without its own key the key "<header>:<index>".
- Resend and recover put a delivery back in the pipeline: a failed manual attempt is retried by the endpoint's policy while attempts remain (manual attempts count), otherwise the delivery is dead again.
- Deleting an endpoint dead-letters its pending deliveries with lastError "endpoint deleted"; a disabled endpoint's pending deliveries wait (nextAttemptAt null) and resume when it is enabled.
- Deleting a tenant deletes its endpoints, events, deliveries, attempts and keys.
- A batch is all or nothing: one invalid event refuses the whole batch, naming it by index (events.3.eventType).
- Request bodies above the configured limits answer 413; unknown fields answer 400.`;

/** Builds the HTTP application for a role (the worker role serves only health and metrics). */
export async function createApp(config: HeraldConfig, options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // A batch may carry 500 events; each event's own limit is checked after parsing.
    bodyLimit: Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4),
    trustProxy: true,
    requestIdHeader: 'x-request-id',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), adapter, {
    logger: options.logger === false ? false : config.logLevel === 'debug' ? ['error', 'warn', 'log', 'debug'] : config.logLevel === 'info' ? ['error', 'warn', 'log'] : config.logLevel === 'warn' ? ['error', 'warn'] : ['error'],
    bufferLogs: false,
  });
  app.useGlobalPipes(validationPipe());
  app.enableShutdownHooks();

  if (config.role !== 'worker') {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Herald')
        .setDescription(API_DESCRIPTION)
        .setVersion(config.version)
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'the admin key (HERALD_ADMIN_KEY) or a tenant key' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
  }
  await app.init();
  return app;
}
