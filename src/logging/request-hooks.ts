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

/**
 * pino-http binds the request's logger when the request arrives, but reading the body runs outside that
 * context: bind it again around the handler, so that every line the handler writes carries the requestId.
 */
export function logWithRequestId(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const raw = request.raw as { allLogs?: Logger[]; log?: Logger };
  const logger = raw.allLogs?.[raw.allLogs.length - 1] ?? raw.log;
  if (!logger) return done();
  storage.run(new Store(logger), done);
}
