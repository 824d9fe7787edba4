import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** The longest part of a statement's text that is logged: enough to tell which statement it was. */
const STATEMENT_CHARS = 200;

/** What may be said about a failed statement: its error code and the schema objects named, never values. */
export function describeQueryError(error: unknown, query: string): Record<string, string> {
  const e = (error ?? {}) as { code?: unknown; table?: unknown; column?: unknown; constraint?: unknown; name?: unknown; driverError?: unknown };
  const source = (e.driverError ?? e) as typeof e;
  const facts: Record<string, string> = { statement: query.replace(/\s+/g, ' ').trim().slice(0, STATEMENT_CHARS) };
  for (const key of ['code', 'table', 'column', 'constraint'] as const) {
    const value = source[key] ?? e[key];
    if (typeof value === 'string' && value) facts[key] = value;
  }
  if (typeof e.name === 'string') facts.error = e.name;
  return facts;
}

/**
 * TypeORM's logger for the service. TypeORM's own loggers print a failed query with its parameters, which
 * are payloads (other tenants' too, in a group commit), response bodies and endpoint headers: this one logs
 * the statement's text, the SQLSTATE and the table, column or constraint, and never a parameter or a
 * PostgreSQL message (those quote values: `invalid input syntax for type json: "…"`).
 */
export class QueryLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {
    // Every statement: too much for any level.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.warn({ msg: 'statement failed', ...describeQueryError(error, query) });
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ msg: 'slow statement', durationMs: time, statement: describeQueryError(null, query).statement });
  }

  logSchemaBuild(): void {
    // Only the migration check builds schemas, and it prints its own findings.
  }

  logMigration(message: string): void {
    this.logger.debug(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    // TypeORM's warnings (deprecations, driver notices) carry no parameters; its info is chatter (main.ts says which migrations ran).
    if (level === 'warn') this.logger.warn(String(message));
  }
}
