import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import pino, { Logger, LoggerOptions } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

// A SQLSTATE (5 characters) or an error from the database layer: its message may quote a stored value.
const FROM_DATABASE = /^[0-9A-Z]{5}$/;

/**
 * Errors in log lines: their type, code and stack frames. The message is kept unless the error comes from
 * the database (PostgreSQL quotes values in messages; TypeORM's errors carry the query's parameters), and no
 * other property is copied (parameters, request bodies).
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!error || typeof error !== 'object') return { message: String(error) };
  const e = error as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown; driverError?: { code?: unknown }; parameters?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.driverError?.code === 'string' ? e.driverError.code : undefined;
  const fromDatabase = e.driverError !== undefined || e.parameters !== undefined || (code !== undefined && FROM_DATABASE.test(code));
  const frames = typeof e.stack === 'string' ? e.stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 8).map((line) => line.trim()) : [];
  return {
    type: typeof e.name === 'string' ? e.name : 'Error',
    ...(code ? { code } : {}),
    ...(!fromDatabase && typeof e.message === 'string' ? { message: e.message } : {}),
    stack: frames,
  };
}

/**
 * One JSON object per line on stdout: `time` (ISO-8601), `level` (a name), `msg`, `context` (the part of
 * Herald that wrote it) and, inside a request, `requestId`.
 */
export function logOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError, error: serializeError },
  };
}

const roots = new Map<LogLevel, Logger>();

/** The process's logger for a level (one per level, so tests that start several apps share them). */
export function rootLogger(level: LogLevel): Logger {
  let logger = roots.get(level);
  if (!logger) roots.set(level, (logger = pino(logOptions(level))));
  return logger;
}

/** Nest's logger interface over the root logger, for what runs before the application exists (migrations). */
export function nestLogger(level: LogLevel): LoggerService {
  return new NestPinoLogger(new PinoLogger({ pinoHttp: { logger: rootLogger(level) } }), {});
}
