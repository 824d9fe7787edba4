import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, FieldProblem } from './errors';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldProblem[];
  /** The request's id (also its x-request-id header): what to quote to match an error to the log. */
  requestId?: string;
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
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// Errors of node-postgres / the network that mean "the database is unreachable", not "the request is wrong".
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
// SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
// crash, starting up), 58 system error; 57014, a statement cancelled by statement_timeout; and 40001 / 40P01, a
// transaction PostgreSQL rolled back to break a serialization failure or a deadlock: nothing was written, and the
// same request made again succeeds.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58)[0-9A-Z]+$|^57014$|^40001$|^40P01$/;
// TypeORM's names for "the connection under this transaction broke": the commit was never acknowledged.
const UNAVAILABLE_NAMES = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError', 'ConnectionIsNotSetError', 'CannotExecuteNotConnectedError']);

export function isUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: string; message?: string; name?: string; driverError?: unknown };
  if (e.code && (UNAVAILABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (e.name && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (e.driverError) return isUnavailable(e.driverError);
  const message = e.message ?? '';
  // "Query read timeout": the client gave up on a server that stopped answering (query_timeout).
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout|the database system is (starting up|shutting down)/i.test(message);
}

/** A PostgreSQL error's SQLSTATE, from node-postgres's error or TypeORM's wrapper of it. */
function sqlState(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : e.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLSTATE 23503: a row refers to one that is not there (or is being deleted). */
export function isForeignKeyViolation(error: unknown): boolean {
  return sqlState(error) === '23503';
}

/** SQLSTATE 42P01: a statement names a table that is not there (a day partition not made yet, or dropped). */
export function isUndefinedTable(error: unknown): boolean {
  return sqlState(error) === '42P01';
}

/** SQLSTATE class 22, "data exception": invalid byte sequence, untranslatable character, value out of range. */
function isDataException(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * A constraint PostgreSQL enforced that validation did not (a null where a value is required, a duplicate).
 * The statement failed, so nothing was written. The column named is the field in the API's camelCase.
 */
function constraintViolation(error: unknown): ErrorBody | null {
  if (!error || typeof error !== 'object') return null;
  const e = error as { column?: unknown; driverError?: { column?: unknown } };
  const code = sqlState(error);
  const column = typeof e.column === 'string' ? e.column : typeof e.driverError?.column === 'string' ? e.driverError.column : null;
  const field = column ? column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : 'body';
  if (code === '23502') {
    const message = `${field} must not be null`;
    return { statusCode: 400, error: TITLES[400], message, details: [{ field, message }] };
  }
  if (code === '23514') {
    const message = `${field === 'body' ? 'a value' : field} is out of the allowed range`;
    return { statusCode: 400, error: TITLES[400], message, details: [{ field, message }] };
  }
  if (code === '23505') return { statusCode: 409, error: TITLES[409], message: 'a resource with the same unique value already exists' };
  if (isForeignKeyViolation(error)) return foreignKeyViolation(error as { detail?: unknown; driverError?: { detail?: unknown } });
  return null;
}

const KINDS: Record<string, string> = { tenants: 'tenant', endpoints: 'endpoint', events: 'event', deliveries: 'delivery', sources: 'source', api_keys: 'api key' };

/**
 * SQLSTATE 23503: a request raced a delete. Writing under a row that was just deleted (a tenant deleted by
 * another process while this request ran) is a 404 for that row; deleting a row still referenced is a 409.
 * PostgreSQL's detail names the tables; the values in it are not echoed.
 */
function foreignKeyViolation(error: { detail?: unknown; driverError?: { detail?: unknown } }): ErrorBody {
  const detail = typeof error.detail === 'string' ? error.detail : typeof error.driverError?.detail === 'string' ? error.driverError.detail : '';
  if (/is still referenced from table/.test(detail)) return { statusCode: 409, error: TITLES[409], message: 'the resource is still in use' };
  const table = /is not present in table "([a-z_]+)"/.exec(detail)?.[1];
  const kind = (table && KINDS[table]) ?? 'a resource this request refers to';
  return { statusCode: 404, error: TITLES[404], message: `${kind} not found` };
}

/** A stack overflow while transforming or validating a request body. */
function isTooDeep(error: unknown): boolean {
  return error instanceof RangeError && /maximum call stack size exceeded/i.test(error.message);
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
  if (isTooDeep(error)) {
    // JSON nested deeper than the validators can walk (e.g. 10 000 levels): the input's fault, not ours.
    const message = 'body is nested too deeply';
    return { body: { statusCode: 400, error: TITLES[400], message, details: [{ field: 'body', message }] }, headers: {} };
  }
  const violation = constraintViolation(error);
  if (violation) return { body: violation, headers: {} };
  if (isDataException(error)) {
    // PostgreSQL refused a value the validators let through (a NUL character, an out-of-range number or
    // date): the request's fault, and its transaction was rolled back, so nothing was written.
    const message = 'a value in the request cannot be stored (for example a NUL character, or a number or date out of range)';
    return { body: { statusCode: 400, error: TITLES[400], message, details: [{ field: 'body', message }] }, headers: {} };
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

/**
 * Fastify's router answers some requests before Nest sees them (a malformed URL, a path parameter over
 * the router's length limit): give them the API's error body too, without echoing the URL.
 */
export function sendFrameworkError(error: { statusCode?: number; code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is longer than any id' : error.code === 'FST_ERR_BAD_URL' ? 'the URL is malformed' : 'the request cannot be routed';
  const body: ErrorBody = { statusCode: status, error: TITLES[status] ?? 'Error', message };
  if (status === 400) body.details = [{ field: 'path', message }];
  body.requestId = request.id;
  void reply.status(status).header('x-request-id', request.id).send(body);
}

@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { body, headers } = toErrorBody(error);
    if (body.statusCode >= 500) {
      // The line carries the request id (the request's logger); messages of unknown errors may carry data, so keep just the name and stack.
      // The error's code (a SQLSTATE, errno or TypeORM name) says what happened without carrying data.
      const e = error as Error & { code?: unknown; driverError?: { code?: unknown } };
      const code = typeof e?.code === 'string' ? e.code : typeof e?.driverError?.code === 'string' ? e.driverError.code : '';
      this.logger.error({
        msg: `${request?.method} ${request?.routeOptions?.url ?? ''} failed: ${e?.name ?? 'Error'}${code ? ` (${code})` : ''}`,
        stack: e?.stack?.split('\n').slice(1, 4).map((line) => line.trim()),
      });
    }
    void reply.status(body.statusCode).headers(headers).send({ ...body, requestId: request?.id });
  }
}
