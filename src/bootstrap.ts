import { RawBodyRequest } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { sendFrameworkError } from './common/error.filter';
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

/** Inbound webhooks are verified over the exact bytes received, so their bodies are never parsed. */
const RAW_BODY_PATH = /^\/in\//;

/**
 * Content-type parsers. /in/* keeps the raw body (any content type, or none) as `request.rawBody`;
 * every other route takes JSON only (parsed as Fastify does by default) and answers 415 for anything else.
 * Registered before init, which then leaves Nest's own JSON and form parsers out.
 */
function registerBodyParsers(app: NestFastifyApplication, adapter: FastifyAdapter): void {
  const fastify = adapter.getInstance();
  const { bodyLimit } = fastify.initialConfig;
  // Payloads are relayed byte for byte, so keys like __proto__ are kept as JSON.parse keeps them (own properties,
  // no prototype is touched); DTO fields are checked by the ValidationPipe and free-form fields are taken as parsed.
  const parseJson = fastify.getDefaultJsonParser('ignore', 'ignore');
  fastify.removeAllContentTypeParsers();
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (req, body, done) => {
    // Fastify's default parser takes a Buffer as well as a string.
    if (!RAW_BODY_PATH.test(req.url)) return parseJson(req, body as unknown as string, done);
    (req as RawBodyRequest<typeof req>).rawBody = body;
    done(null, body);
  });
  app.useBodyParser<RawServerDefault>('*', { bodyLimit }, (req, body, done) => {
    if (!RAW_BODY_PATH.test(req.url)) {
      // Mapped by the error filter to 415 "content-type must be application/json".
      return done(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }));
    }
    (req as RawBodyRequest<typeof req>).rawBody = body;
    done(null, body);
  });
}

/** Builds the HTTP application for a role (the worker role serves only health and metrics). */
export async function createApp(config: HeraldConfig, options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // A batch may carry 500 events; each event's own limit is checked after parsing.
    bodyLimit: Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4),
    trustProxy: true,
    requestIdHeader: 'x-request-id',
    // Errors the router raises before Nest sees the request (bad URL, over-long id) get the API's error body.
    frameworkErrors: sendFrameworkError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), adapter, {
    logger: options.logger === false ? false : config.logLevel === 'debug' ? ['error', 'warn', 'log', 'debug'] : config.logLevel === 'info' ? ['error', 'warn', 'log'] : config.logLevel === 'warn' ? ['error', 'warn'] : ['error'],
    bufferLogs: false,
  });
  registerBodyParsers(app, adapter);
  app.useGlobalPipes(validationPipe());

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
