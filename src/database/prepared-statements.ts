import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';

/** A statement whose text never changes: its lists travel as array parameters (unnest), never as placeholders. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export function statement(name: string, text: string): Statement {
  return { name, text };
}

/** What PreparedStatements needs of the configuration. */
export type PreparedStatementsConfig = Pick<HeraldConfig, 'databaseUrl' | 'preparedStatements'> & { limits: Pick<HeraldConfig['limits'], 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'> };

/** Connections of the prepared statements: the hot path runs one or two of them at a time per process. */
const CONNECTIONS = 4;

/**
 * The hot path's statements (publish, claim, attempt record), each prepared once per connection and run with its
 * generic plan, instead of planned again on every run.
 *
 * Why: events, deliveries and attempts have a partition per day, each with its indexes, and PostgreSQL takes about
 * 1 ms to plan a statement over them, against about 0.1 ms to run the claim of a few deliveries: planning was most of
 * the database's work per delivery. These statements take their lists as arrays, so a plan made for one run's values
 * is no better than the generic one (nothing can be pruned from an array's contents), and generic is forced
 * (plan_cache_mode) on connections of their own: every other query keeps plans made for its values (a generic plan
 * cannot use a partial index on a status given as a parameter).
 *
 * HERALD_DB_PREPARED_STATEMENTS=false sends them unnamed and planned each time, for a pooler that cannot keep
 * prepared statements (PgBouncer before 1.21 in transaction mode).
 */
@Injectable()
export class PreparedStatements implements OnApplicationShutdown {
  private readonly logger = new Logger(PreparedStatements.name);
  private pool?: Pool;

  constructor(@Inject(CONFIG) private readonly config: PreparedStatementsConfig) {}

  /** Runs the statement; answers its rows. Fails as a query of the pool would (pg's errors, with their SQLSTATE). */
  async query<T>(statement: Statement, values: unknown[]): Promise<T[]> {
    const prepared = this.config.preparedStatements;
    const result = await this.connections().query({ name: prepared ? statement.name : undefined, text: statement.text, values });
    return result.rows as T[];
  }

  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** Opened on first use: a role that runs none of these statements opens no connection for them. */
  private connections(): Pool {
    if (this.pool) return this.pool;
    const { dbConnectTimeoutMs, dbStatementTimeoutMs } = this.config.limits;
    const pool = new Pool({
      connectionString: this.config.databaseUrl,
      max: CONNECTIONS,
      connectionTimeoutMillis: dbConnectTimeoutMs,
      statement_timeout: dbStatementTimeoutMs,
      query_timeout: dbStatementTimeoutMs + 1000,
      ...(this.config.preparedStatements ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
    });
    // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; the next query opens another.
    pool.on('error', (error) => this.logger.warn(`a connection of the prepared statements broke: ${error.message}`));
    this.pool = pool;
    return pool;
  }
}
