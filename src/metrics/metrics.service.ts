import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { TopN } from './top-n';

/** How an attempt ended: success, http_error (an answer outside 2xx), or the attempt's error class (timeout, dns, ...). */
export type AttemptOutcomeLabel = string;

export interface AttemptObservation {
  tenantId: string;
  endpointId: string;
  outcome: AttemptOutcomeLabel;
  durationMs: number;
  /** The delivery's final status when this attempt ended it; null while retries remain. */
  finished?: 'succeeded' | 'dead' | null;
}

export type GroupCommitKind = 'publish' | 'attempt';

/** Seats are re-dealt to the busiest keys every ten minutes (see TopN). */
const LABEL_WINDOW_MS = 10 * 60_000;

/**
 * Herald's Prometheus metrics; each process exposes its own on GET /metrics.
 *
 * Label cardinality is bounded: `endpoint` takes at most HERALD_METRICS_TOP_ENDPOINTS values (the busiest
 * endpoints of the last window) plus `other`, and `tenant` at most HERALD_METRICS_TOP_TENANTS plus `other`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly endpointLabels: TopN;
  private readonly tenantLabels: TopN;
  private readonly queueSizes = new Map<GroupCommitKind, () => number>();

  readonly eventsPublished = new Counter({ name: 'herald_events_published_total', help: 'events accepted (202), not counting idempotent replays', labelNames: ['tenant'], registers: [this.registry] });

  readonly publishShed = new Counter({ name: 'herald_publish_shed_total', help: 'publish requests refused with 503 because the commit queue was past HERALD_PUBLISH_QUEUE_LIMIT', registers: [this.registry] });
  readonly publishDuration = new Histogram({
    name: 'herald_publish_duration_seconds',
    help: 'time from a publish request reaching the publisher to its events and deliveries being committed',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly attempts = new Counter({
    name: 'herald_delivery_attempts_total',
    help: 'delivery attempts by outcome: success, http_error, or the attempt error (timeout, connection_refused, ...)',
    labelNames: ['tenant', 'endpoint', 'outcome'],
    registers: [this.registry],
  });

  readonly attemptDuration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'duration of delivery attempts',
    labelNames: ['tenant', 'endpoint'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly deliveriesFinished = new Counter({
    name: 'herald_deliveries_finished_total',
    help: 'deliveries that reached a final status (succeeded or dead)',
    labelNames: ['tenant', 'endpoint', 'status'],
    registers: [this.registry],
  });

  readonly sweeperRequeued = new Counter({ name: 'herald_sweeper_requeued_total', help: 'deliveries the sweeper re-enqueued from PostgreSQL (Redis lost or never got their jobs)', registers: [this.registry] });

  readonly attemptsInFlight = new Gauge({ name: 'herald_attempts_in_flight', help: 'HTTP requests to endpoints under way in this process', registers: [this.registry] });

  readonly jobsHeld: Gauge = new Gauge({
    name: 'herald_worker_jobs_held',
    help: 'jobs a worker took from the queues and holds while their endpoints wait for a place in its budget (HERALD_WORKER_HOLD_MAX)',
    registers: [this.registry],
    collect: (): void => this.jobsHeld.set(this.heldJobs()),
  });
  private heldJobs: () => number = () => 0;

  readonly groupCommitQueue = new Gauge({
    name: 'herald_group_commit_queue',
    help: 'items waiting for the next group commit: publish (events) or attempt (attempt records)',
    labelNames: ['kind'],
    registers: [this.registry],
    collect: () => this.collectQueueSizes(),
  });

  readonly stateLoadBatchSize = new Histogram({
    name: 'herald_state_load_batch_size',
    help: 'deliveries claimed (with their events) by one statement of the worker',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  });

  // Filled at scrape time by QueueGauges and DeliveryGauges.
  readonly queueDepth = new Gauge({ name: 'herald_queue_depth', help: 'jobs per delivery shard, lane (live, bulk) and state', labelNames: ['shard', 'lane', 'state'], registers: [this.registry] });
  readonly queueOldestJobAge = new Gauge({
    name: 'herald_queue_oldest_job_age_seconds',
    help: 'how long the oldest job ready to run in each shard and lane has waited (0 when none waits)',
    labelNames: ['shard', 'lane'],
    registers: [this.registry],
  });
  readonly backlog = new Gauge({ name: 'herald_backlog_deliveries', help: 'pending deliveries (PostgreSQL), including those waiting for a retry', labelNames: ['tenant', 'endpoint'], registers: [this.registry] });
  readonly backlogOverdue = new Gauge({
    name: 'herald_backlog_overdue_seconds',
    help: 'how far past its due time the most overdue pending delivery is (0 when none is due)',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly deadLetters = new Gauge({ name: 'herald_dead_letters', help: 'dead deliveries kept (PostgreSQL, within retention)', labelNames: ['tenant', 'endpoint'], registers: [this.registry] });
  readonly circuitsOpen = new Gauge({ name: 'herald_circuits_open', help: 'endpoints whose circuit is open or probing', labelNames: ['tenant'], registers: [this.registry] });
  readonly circuitOpenSeconds = new Gauge({
    name: 'herald_circuit_open_seconds',
    help: 'for endpoints whose circuit is open or probing: seconds since their failures began',
    labelNames: ['tenant', 'endpoint'],
    registers: [this.registry],
  });

  constructor(@Inject(CONFIG) config: HeraldConfig) {
    this.endpointLabels = new TopN(config.metricsTopEndpoints, LABEL_WINDOW_MS);
    this.tenantLabels = new TopN(config.metricsTopTenants, LABEL_WINDOW_MS);
    // Includes the event-loop lag (monitorEventLoopDelay): herald_process_nodejs_eventloop_lag_p99_seconds and others.
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
  }

  /** One finished HTTP attempt: the counter by outcome, the latency histogram, and the delivery's end if it ended. */
  recordAttempt(a: AttemptObservation): void {
    const labels = this.labels(a.tenantId, a.endpointId);
    this.attempts.inc({ ...labels, outcome: a.outcome });
    this.attemptDuration.observe(labels, a.durationMs / 1000);
    if (a.finished) this.deliveriesFinished.inc({ ...labels, status: a.finished });
  }

  /** A delivery that ended without an attempt (its endpoint was deleted). */
  recordFinished(tenantId: string | null, endpointId: string, status: 'succeeded' | 'dead'): void {
    this.deliveriesFinished.inc({ ...this.labels(tenantId ?? 'unknown', endpointId), status });
  }

  /** Events committed by one publish, whatever tenants they belong to. */
  recordPublished(tenantIds: readonly string[]): void {
    const counts = new Map<string, number>();
    for (const id of tenantIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, n] of counts) this.eventsPublished.inc({ tenant: this.tenantLabel(id) }, n);
  }

  /** Counts `send` in herald_attempts_in_flight while it runs. */
  async trackInFlight<T>(send: () => Promise<T>): Promise<T> {
    this.attemptsInFlight.inc();
    try {
      return await send();
    } finally {
      this.attemptsInFlight.dec();
    }
  }

  /** The worker reports how many jobs it holds at each scrape. */
  watchJobsHeld(count: () => number): void {
    this.heldJobs = count;
  }

  /** A group-commit queue reports its length at each scrape. */
  watchGroupCommitQueue(kind: GroupCommitKind, size: () => number): void {
    this.queueSizes.set(kind, size);
  }

  observeStateLoadBatch(size: number): void {
    this.stateLoadBatchSize.observe(size);
  }

  /** The bounded label values for a tenant's endpoint. */
  labels(tenantId: string, endpointId: string): { tenant: string; endpoint: string } {
    const now = Date.now();
    return { tenant: this.tenantLabel(tenantId, now), endpoint: this.endpointLabels.label(endpointId, now, (gone) => this.forget('endpoint', gone)) };
  }

  tenantLabel(tenantId: string, now = Date.now()): string {
    return this.tenantLabels.label(tenantId, now, (gone) => this.forget('tenant', gone));
  }

  private collectQueueSizes(): void {
    for (const [kind, size] of this.queueSizes) this.groupCommitQueue.set({ kind }, size());
  }

  /** A value that lost its seat: its series go, so the number of series stays bounded. */
  private forget(label: 'tenant' | 'endpoint', value: string): void {
    for (const metric of [this.attempts, this.attemptDuration, this.deliveriesFinished, this.eventsPublished] as (Counter<string> | Histogram<string>)[]) {
      void metric.get().then(({ values }) => {
        const seen = new Set<string>();
        for (const { labels } of values) {
          if (labels[label] !== value) continue;
          const { le: _le, ...own } = labels as Record<string, string | number>;
          const key = JSON.stringify(own);
          if (seen.has(key)) continue;
          seen.add(key);
          metric.remove(own);
        }
      });
    }
  }
}
