import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Herald's Prometheus metrics; each process exposes its own on GET /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsPublished = new Counter({ name: 'herald_events_published_total', help: 'events accepted (202), not counting idempotent replays', registers: [this.registry] });

  readonly attempts = new Counter({
    name: 'herald_delivery_attempts_total',
    help: 'delivery attempts by outcome: success, http_error, or the attempt error (timeout, connection_refused, ...)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly attemptDuration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'duration of delivery attempts',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly deliveriesFinished = new Counter({ name: 'herald_deliveries_finished_total', help: 'deliveries that reached a final status', labelNames: ['status'], registers: [this.registry] });

  readonly sweeperRequeued = new Counter({ name: 'herald_sweeper_requeued_total', help: 'deliveries the sweeper re-enqueued from PostgreSQL', registers: [this.registry] });

  readonly queueDepth = new Gauge({ name: 'herald_queue_depth', help: 'jobs per delivery shard and state', labelNames: ['shard', 'state'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
  }
}
