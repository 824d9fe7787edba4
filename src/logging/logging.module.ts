import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { rootLogger } from './log-format';

/**
 * Structured logs: Nest's logger writes pino JSON lines. The request hooks (request-hooks.ts) bind every line
 * written while a request runs to its `requestId` and write one line when it completes; nestjs-pino's own
 * middleware (pino-http) is not used: it made two child loggers per request, 4 % of the API's CPU when
 * publishing, whether or not a line was written.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [CONFIG],
      useFactory: (config: HeraldConfig) => ({ pinoHttp: { logger: rootLogger(config.logLevel) }, useExisting: true, forRoutes: [] }),
    }),
  ],
})
export class LoggingModule {}
