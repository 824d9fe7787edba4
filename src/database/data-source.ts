import { DataSourceOptions } from 'typeorm';
import { ApiKey } from '../auth/api-key.entity';
import { HeraldConfig } from '../config/config';
import { DeliveryAttempt } from '../deliveries/attempt.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { Endpoint } from '../endpoints/endpoint.entity';
import { HeraldEvent } from '../events/event.entity';
import { SourceRequest } from '../inbound/source-request.entity';
import { Source } from '../inbound/source.entity';
import { Tenant } from '../tenants/tenant.entity';
import { migrations } from './migrations';
import { Replay } from '../replays/replay.entity';

export const entities = [Tenant, ApiKey, Endpoint, HeraldEvent, Delivery, DeliveryAttempt, Source, SourceRequest, Replay];

export function dataSourceOptions(config: Pick<HeraldConfig, 'databaseUrl'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities,
    migrations,
    migrationsTableName: 'herald_migrations',
    // Schema changes go through migrations only.
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: {
      max: 20,
      connectionTimeoutMillis: 5000,
      // Fail fast rather than hang when PostgreSQL is gone; the API answers 503.
      query_timeout: 30000,
    },
  };
}
