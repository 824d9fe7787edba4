import { EventType } from '../event-types/event-type.entity';
import { DataSourceOptions } from 'typeorm';
import { ApiKey } from '../auth/api-key.entity';
import { HeraldConfig } from '../config/config';
import { DeliveryAttempt } from '../deliveries/attempt.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { Endpoint } from '../endpoints/endpoint.entity';
import { HeraldEvent } from '../events/event.entity';
import { EventIdempotencyKey } from '../events/event-idempotency-key.entity';
import { SourceRequest } from '../inbound/source-request.entity';
import { Source } from '../inbound/source.entity';
import { Tenant } from '../tenants/tenant.entity';
import { IdempotentResponse } from '../svix/idempotent-response.entity';
import { migrations } from './migrations';
import { QueryLogger } from './query-logger';
import { PortalSession } from '../portal/portal-session.entity';
import { Replay } from '../replays/replay.entity';
import { EndpointStatGranule, EndpointStatMark } from '../deliveries/stats-rollup.entity';
import { OrderingLine } from '../deliveries/ordering-line.entity';

export const entities = [Tenant, ApiKey, Endpoint, HeraldEvent, EventIdempotencyKey, Delivery, DeliveryAttempt, Source, SourceRequest, PortalSession, EventType, IdempotentResponse, Replay, EndpointStatGranule, EndpointStatMark, OrderingLine];

const DEFAULT_TIMEOUTS = { dbConnectTimeoutMs: 5000, dbStatementTimeoutMs: 30_000 };

/**
 * Bounded waits, so that with PostgreSQL stopped every request answers 503 within about
 * connect timeout (+ statement timeout for one already running) instead of hanging: opening a
 * connection gives up after HERALD_DB_CONNECT_TIMEOUT_MS, a statement after HERALD_DB_STATEMENT_TIMEOUT_MS
 * (cancelled by the server, and abandoned by the client if the server does not answer).
 */
export function dataSourceOptions(config: Pick<HeraldConfig, 'databaseUrl'> & { limits?: Pick<HeraldConfig['limits'], 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'> }): DataSourceOptions {
  const { dbConnectTimeoutMs, dbStatementTimeoutMs } = config.limits ?? DEFAULT_TIMEOUTS;
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities,
    migrations,
    migrationsTableName: 'herald_migrations',
    // Schema changes go through migrations only.
    synchronize: false,
    migrationsRun: false,
    // Failed statements are logged without their parameters (payloads, headers, response bodies).
    logging: ['error', 'warn'],
    logger: new QueryLogger(),
    extra: {
      max: 20,
      connectionTimeoutMillis: dbConnectTimeoutMs,
      statement_timeout: dbStatementTimeoutMs,
      // A little later than the server's own cancel, for a server that no longer answers at all.
      query_timeout: dbStatementTimeoutMs + 1000,
    },
  };
}
