import { Inject, Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { formatTraceparent, parseTraceparent, urlWithoutQuery } from './trace-context';
import { TRACER_NAME } from './tracing';

/** What an attempt's span says about it: ids and the URL (shown without its query), never payloads or headers. */
export interface AttemptAttributes {
  url: string;
  attempt: number;
  tenantId: string;
  endpointId: string;
  deliveryId: string;
  eventId: string;
}

/** What the span needs of the attempt's result (HttpSender's SendResult has it). */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * One span per delivery attempt (HTTP client semantics), in the trace of the publish request that
 * created the event: the event row keeps that request's `traceparent`, and each attempt — in another
 * process, minutes later, after retries — continues it.
 */
@Injectable()
export class DeliveryTracing {
  private readonly enabled: boolean;

  constructor(@Inject(CONFIG) config: HeraldConfig) {
    this.enabled = config.tracing.enabled;
  }

  /**
   * Runs `send` inside the attempt's span. `send` receives the traceparent a receiver may be given: the
   * attempt span's own, or with tracing off the stored one as it is (null when none).
   */
  async attempt<R extends AttemptResult>(traceparent: string | null, attrs: AttemptAttributes, send: (traceparent: string | null) => Promise<R>): Promise<R> {
    if (!this.enabled) return send(traceparent);
    const parent = parseTraceparent(traceparent);
    const url = urlWithoutQuery(attrs.url);
    const span = trace.getTracer(TRACER_NAME).startSpan(
      'POST',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          ...(url && { 'url.full': url.full, 'server.address': url.host, 'server.port': url.port }),
          'http.request.resend_count': attrs.attempt - 1,
          'herald.attempt': attrs.attempt,
          'herald.tenant.id': attrs.tenantId,
          'herald.endpoint.id': attrs.endpointId,
          'herald.delivery.id': attrs.deliveryId,
          'herald.event.id': attrs.eventId,
        },
      },
      parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
    );
    try {
      const result = await send(formatTraceparent(span.spanContext()));
      if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
      const errorType = result.error ?? (result.statusCode !== null && result.statusCode >= 400 ? String(result.statusCode) : null);
      if (errorType) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return result;
    } catch (error) {
      span.setAttribute('error.type', (error as Error)?.constructor?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }
}
