import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Logger } from 'pino';
import { Store, storage } from 'nestjs-pino/storage';
import type { AuthedRequest } from '../access/access.decorators';
import type { Authenticator } from '../auth/authenticator';
import { toErrorBody } from '../common/error.filter';

/** Every answer says which request it was (the id is Fastify's, from a sane incoming x-request-id or new). */
export function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  void reply.header('x-request-id', request.id);
  done();
}

/**
 * The bearer key of a /v1 route is checked when the request arrives, before its body is read: a client
 * without a valid key cannot make the service read (and hold) a large body. The AuthGuard then only
 * authorises (admin-only routes, the path's tenant).
 */
export function checkKeyOnArrival(authenticator: Authenticator) {
  return async (request: FastifyRequest & AuthedRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!request.routeOptions.url?.startsWith('/v1/')) return undefined;
    try {
      request.principal = await authenticator.principalOf(request.headers.authorization);
      return undefined;
    } catch (error) {
      const { body, headers } = toErrorBody(error);
      // Returning the reply ends the request here: no body is read, no handler runs.
      return reply.status(body.statusCode).headers(headers).send({ ...body, requestId: request.id });
    }
  };
}

/** Requests that are not worth a line each (probes, scrapes). */
const QUIET_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * The logger of lines written while a request runs: the root logger with the request's id, made on the first line
 * (most requests write none). PinoLogger.assign replaces it, as with any nestjs-pino store.
 */
export function requestStore(root: Logger, requestId: string): Store {
  const store = new Store(root);
  let bound: Logger | undefined;
  Object.defineProperty(store, 'logger', {
    enumerable: true,
    get: () => (bound ??= root.child({ requestId })),
    set: (logger: Logger) => (bound = logger),
  });
  return store;
}

/** Binds the handler's log lines to the request's id (the handler runs inside this context). */
export function logWithRequestId(root: Logger) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    storage.run(requestStore(root, request.id), done);
  };
}

/** One line per completed request: method, path (no query), status, duration; never a header or a body. */
export function logCompleted(root: Logger) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    if (root.isLevelEnabled(level) && !QUIET_PATHS.test(request.url)) {
      const line = { requestId: request.id, req: { method: request.method, path: request.url.split('?')[0] }, res: { statusCode: reply.statusCode }, durationMs: Math.round(reply.elapsedTime) };
      root[level](line, 'request completed');
    }
    done();
  };
}
