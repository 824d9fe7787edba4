import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiModule } from './api.module';
import { DomainErrorFilter } from './common/error.filter';
import { HeraldConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DeliveriesWorkerModule } from './deliveries/deliveries-worker.module';
import { HealthController } from './health/health.controller';
import { InboundWorkerModule } from './inbound/inbound-worker.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsModule } from './metrics/metrics.module';
import { QueuesModule } from './queues/queues.module';
import { RedisModule } from './redis/redis.module';
import { ReplaysWorkerModule } from './replays/replays-worker.module';
import { TracingModule } from './tracing/tracing.module';

/** One codebase, two roles: `api` serves HTTP, `worker` delivers, `all` does both in one process. */
@Module({})
export class AppModule {
  static forConfig(config: HeraldConfig): DynamicModule {
    const roleModules = [];
    if (config.role !== 'worker') roleModules.push(ApiModule);
    if (config.role !== 'api') roleModules.push(DeliveriesWorkerModule, InboundWorkerModule, ReplaysWorkerModule);
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), LoggingModule, DatabaseModule, RedisModule, MetricsModule, TracingModule.forConfig(config), QueuesModule.forConfig(config), ...roleModules],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    };
  }
}
