import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { rootLogger } from './log-format';

/** Requests that are not worth a line each (probes, scrapes). */
const QUIET_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Structured logs: Nest's logger writes pino JSON lines; pino-http binds every line written while a
 * request runs to its `requestId` (Fastify's request id, from a sane incoming x-request-id or new), and
 * writes one line when the request completes (method, route path, status, duration; no headers, no body).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [CONFIG],
      useFactory: (config: HeraldConfig) => ({
        pinoHttp: {
          logger: rootLogger(config.logLevel),
          quietReqLogger: true,
          customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
          autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
          serializers: {
            req: (req: { method?: string; url?: string }) => ({ method: req.method, path: (req.url ?? '').split('?')[0] }),
            res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
