import type { IncomingMessage } from 'node:http';
import { RawBodyRequest } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { Authenticator } from './auth/authenticator';
import { bodyLimitFor } from './common/body-limits';
import { serveConsole } from './console/console-static';
import { sendFrameworkError } from './common/error.filter';
import { validationPipe } from './common/validation';
import { HeraldConfig } from './config/config';
import { dataSourceOptions } from './database/data-source';
import { MAX_BATCH_EVENTS } from './events/dto/event.dto';
import { rootLogger } from './logging/log-format';
import { checkKeyOnArrival, echoRequestId, logCompleted, logWithRequestId } from './logging/request-hooks';
import { requestIdFrom } from './logging/request-id';

export async function runMigrations(config: HeraldConfig): Promise<string[]> {
  const options = dataSourceOptions(config);
  // A migration may rewrite a large table: no statement timeout for it.
  const db = new DataSource({ ...options, extra: { ...options.extra, statement_timeout: 0, query_timeout: undefined } } as typeof options);
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
- Request bodies above the configured limits answer 413; unknown fields answer 400. The bearer key is checked before a body is read.
- Limits answer 422 naming the field and the setting, without Retry-After (retrying cannot help): a batch larger than the tenant's publishRateLimitPerSecond, a publish that would create more deliveries than HERALD_MAX_DELIVERIES_PER_REQUEST (events × matching endpoints), an endpoint beyond HERALD_MAX_ENDPOINTS_PER_TENANT.
- Every answer carries an x-request-id header (the caller's own when it is 1-128 characters of A-Z a-z 0-9 . _ : = / + @ -, else a new one), and every error body its requestId: quote it to match an error to the service's log.
- A POST or DELETE that takes no body accepts Content-Type: application/json with an empty body.`;

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
    // Many SDKs send Content-Type: application/json on every request, body or not.
    if (!RAW_BODY_PATH.test(req.url) && body.length === 0) return done(null, undefined);
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
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs, maxBodyBytes } = config.limits;
  const adapter = new FastifyAdapter({
    // Every route but publishing and /in/* (see bodyLimitFor).
    bodyLimit: maxBodyBytes,
    trustProxy: true,
    genReqId: (req: IncomingMessage) => requestIdFrom(req.headers['x-request-id']),
    // A client that has not sent its whole request (headers within headersTimeout) is disconnected (408);
    // Node checks incomplete requests every connectionsCheckingInterval.
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(headersTimeoutMs / 4))) },
    // Errors the router raises before Nest sees the request (bad URL, over-long id) get the API's error body.
    frameworkErrors: sendFrameworkError,
  });
  // In-process tests ask for silence; the log level is otherwise HERALD_LOG_LEVEL's, start-up lines included.
  const appConfig: HeraldConfig = options.logger === false ? { ...config, logLevel: 'silent' } : config;
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(appConfig), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    route.bodyLimit = bodyLimitFor(method, route.url, config, MAX_BATCH_EVENTS);
  });
  fastify.addHook('onRequest', echoRequestId);
  if (config.role !== 'worker') fastify.addHook('onRequest', checkKeyOnArrival(app.get(Authenticator)));
  const log = rootLogger(appConfig.logLevel);
  // The worker serves only probes and scrapes, whose handlers log nothing: binding its requests' lines would only
  // switch on AsyncLocalStorage, whose promise hooks then run for every promise of every attempt.
  if (config.role !== 'worker') fastify.addHook('preHandler', logWithRequestId(log));
  fastify.addHook('onResponse', logCompleted(log));
  registerBodyParsers(app, adapter);
  app.useGlobalPipes(validationPipe());

  if (config.role !== 'worker') {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Herald')
        .setDescription(API_DESCRIPTION)
        .setVersion(config.version)
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'the admin key (HERALD_ADMIN_KEY), a tenant key, or a portal link token (hpt_…, limited to its capabilities)' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
    await serveConsole(app, config);
  }
  await app.init();
  return app;
}
