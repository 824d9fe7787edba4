import { Inject, Injectable } from '@nestjs/common';
import { Context, Span, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { formatTraceparent } from './trace-context';
import { TRACER_NAME } from './tracing';

/** A publish request's trace: where its spans hang, and the traceparent its events keep for their attempts. */
export interface PublishTrace {
  context: Context;
  traceparent: string | null;
}

/**
 * The spans of one group commit: each request in the group gets its own commit span (and enqueue span)
 * in its own trace, all lasting as long as the shared statement, with the group's size as an attribute.
 */
export class GroupSpans {
  private enqueueSpans: Span[] = [];

  constructor(
    private readonly contexts: Context[],
    private readonly commitSpans: Span[],
  ) {}

  committed(): void {
    this.commitSpans.forEach((s) => s.end());
  }

  failed(error: unknown): void {
    for (const span of this.commitSpans) {
      span.setAttribute('error.type', (error as Error)?.constructor?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  }

  /** Spans for the enqueue that follows the commit; they end when it settles (it is not awaited by the requests). */
  enqueue(jobs: number, enqueued: Promise<unknown> | null): void {
    const tracer = trace.getTracer(TRACER_NAME);
    this.enqueueSpans = this.contexts.map((ctx) => tracer.startSpan('herald.publish.enqueue', { attributes: { 'herald.jobs': jobs } }, ctx));
    const end = (error?: unknown) => {
      for (const span of this.enqueueSpans) {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'enqueue failed; the sweeper will offer these deliveries' });
        if (!enqueued) span.setAttribute('herald.enqueue.skipped', true);
        span.end();
      }
    };
    if (!enqueued) end();
    else enqueued.then(() => end(), end);
  }
}

/** Spans of the publish path; inert (and never called upon by the publisher) when tracing is off. */
@Injectable()
export class PublishTracing {
  readonly enabled: boolean;

  constructor(@Inject(CONFIG) config: HeraldConfig) {
    this.enabled = config.tracing.enabled;
  }

  /** The active request's trace (RequestTracingInterceptor's span, continuing the producer's traceparent). */
  current(): PublishTrace {
    const ctx = context.active();
    const span = trace.getSpanContext(ctx);
    return { context: ctx, traceparent: span ? formatTraceparent(span) : null };
  }

  /** Opens the commit spans of a group: one per request, in that request's trace. */
  commit(contexts: Context[], events: number): GroupSpans {
    const tracer = trace.getTracer(TRACER_NAME);
    return new GroupSpans(
      contexts,
      contexts.map((ctx) => tracer.startSpan('herald.publish.commit', { attributes: { 'herald.commit.events': events, 'herald.commit.requests': contexts.length } }, ctx)),
    );
  }
}
