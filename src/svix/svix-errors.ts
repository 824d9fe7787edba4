import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from '../common/error.filter';
import { DomainError } from '../common/errors';

/** One item of Svix's 422 body: where (`["body", "url"]`), what, and a machine type. */
export interface SvixValidationItem {
  loc: string[];
  msg: string;
  type: string;
}

/** Invalid input in Svix's shape: 422 `{detail: [{loc, msg, type}]}`. */
export class SvixValidationError extends DomainError {
  readonly status = 422;
  readonly title = 'Unprocessable Entity';
  constructor(readonly items: SvixValidationItem[]) {
    super(items.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
  }
}

/** A Svix error with its own code (e.g. a duplicate message eventId, an idempotency key reused). */
export class SvixHttpError extends DomainError {
  readonly title: string;
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.title = code;
  }
}

const CODES: Record<number, string> = {
  400: 'generic_error',
  401: 'authentication_failed',
  403: 'insufficient access',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'server_error',
  503: 'service_unavailable',
};

/** The body and status Svix's SDKs expect for any error thrown under /api/v1. Pure. */
export function toSvixError(error: unknown): { status: number; body: unknown; headers: Record<string, string> } {
  if (error instanceof SvixValidationError) return { status: 422, body: { detail: error.items }, headers: {} };
  if (error instanceof SvixHttpError) return { status: error.status, body: { code: error.code, detail: error.message }, headers: {} };
  const { body, headers } = toErrorBody(error);
  // Herald's own validation (400 with named fields, or a payload failing its schema) is Svix's 422.
  if ((body.statusCode === 400 || body.statusCode === 422) && body.details?.length) {
    const items = body.details.map((d) => ({
      loc: [...(d.field.startsWith('query.') ? [] : ['body']), ...d.field.split('.'), ...(d.pointer && d.pointer !== '/' ? d.pointer.slice(1).split('/') : [])],
      msg: d.message,
      type: d.pointer ? 'schema_error' : 'value_error',
    }));
    return { status: 422, body: { detail: items }, headers };
  }
  return { status: body.statusCode, body: { code: CODES[body.statusCode] ?? 'generic_error', detail: body.message }, headers };
}

/** Every error under /api/v1 in Svix's shape; bound to the Svix controllers, so Herald's own routes keep theirs. */
@Catch()
export class SvixErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('SvixErrors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { status, body, headers } = toSvixError(error);
    if (status >= 500) {
      const e = error as Error;
      this.logger.error(`request ${request?.id} ${request?.method} ${request?.routeOptions?.url ?? ''} failed: ${e?.name ?? 'Error'} ${e?.stack?.split('\n').slice(1, 4).join(' ') ?? ''}`);
    }
    void reply.status(status).headers(headers).send(body);
  }
}
