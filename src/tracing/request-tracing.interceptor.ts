import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { TRACER_NAME } from './tracing';

/** Scrapes and probes would only add noise to the traces. */
const UNTRACED = /^\/(metrics|health)(\/|$)/;

/**
 * A server span for each API request, continuing the caller's `traceparent` when it sends one; the
 * handler runs inside it, so what it starts (a publish's commit and enqueue) joins the same trace.
 * The span ends when the response is sent, with the status the client got. Registered only when tracing is on.
 */
@Injectable()
export class RequestTracingInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const http = ctx.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.routeOptions?.url ?? request.url.split('?')[0];
    if (UNTRACED.test(route)) return next.handle();
    const reply = http.getResponse<FastifyReply>();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = trace.getTracer(TRACER_NAME).startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] } },
      parent,
    );
    reply.raw.once('close', () => {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    return context.with(trace.setSpan(parent, span), () => next.handle());
  }
}
