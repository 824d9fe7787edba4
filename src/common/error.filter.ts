import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, FieldProblem } from './errors';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldProblem[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// Errors of node-postgres / the network that mean "the database is unreachable", not "the request is wrong".
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);

export function isUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: string; message?: string; driverError?: unknown };
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.driverError) return isUnavailable(e.driverError);
  const message = e.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|the database system is (starting up|shutting down)/i.test(message);
}

/** Turns anything thrown into the API's one error body. Unknown errors are 500 and never leak internals. */
export function toErrorBody(error: unknown): { body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof DomainError) {
    const body: ErrorBody = { statusCode: error.status, error: error.title, message: error.message };
    if (error.details) body.details = error.details;
    return { body, headers: error.headers ?? {} };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? error.message);
    const body: ErrorBody = { statusCode: status, error: TITLES[status] ?? 'Error', message };
    // Fastify's body-parsing errors reach us as HttpExceptions: name the field they are about.
    if (status === 400 || status === 413 || status === 415) body.details = [{ field: 'body', message }];
    return { body, headers: {} };
  }
  if (isUnavailable(error)) {
    return {
      body: { statusCode: 503, error: TITLES[503], message: 'the database is unavailable; nothing was stored, retry later' },
      headers: { 'retry-after': '1' },
    };
  }
  // Fastify's own errors (body parsing, size limit, content type) carry a 4xx statusCode.
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    let message = fastifyError.message ?? 'bad request';
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = 'request body is larger than the allowed limit';
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = 'content-type must be application/json';
    if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') message = 'body is not valid JSON';
    if (fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = 'body must not be empty';
    const body: ErrorBody = { statusCode: status, error: TITLES[status] ?? 'Error', message };
    if (status === 400 || status === 415) body.details = [{ field: 'body', message }];
    return { body, headers: {} };
  }
  return { body: { statusCode: 500, error: TITLES[500], message: 'internal error' }, headers: {} };
}

@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { body, headers } = toErrorBody(error);
    if (body.statusCode >= 500) {
      // Logged with the request id only; messages of unknown errors may carry data, so keep just the name and stack.
      const e = error as Error;
      this.logger.error(`request ${request?.id} ${request?.method} ${request?.routeOptions?.url ?? ''} failed: ${e?.name ?? 'Error'} ${e?.stack?.split('\n').slice(1, 4).join(' ') ?? ''}`);
    }
    void reply.status(body.statusCode).headers(headers).send(body);
  }
}
