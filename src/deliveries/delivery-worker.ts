import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { newId } from '../common/ids';
import { EndpointCache } from '../endpoints/endpoint-cache';
import { Endpoint } from '../endpoints/endpoint.entity';
import { EndpointsService } from '../endpoints/endpoints.service';
import { MetricsService } from '../metrics/metrics.service';
import { DELIVERY_QUEUES, DeliveryJob, DeliveryQueues, enqueueDeliveries } from '../queues/delivery-queues';
import { Outcome, decideOutcome } from './attempt-outcome';
import { AttemptTrigger } from './delivery.entity';
import { HttpSender, SendResult } from './http-sender';
import { signWebhook } from './signature';

const KNOWN_ERRORS = new Set(['timeout', 'connection_refused', 'connection_reset', 'dns', 'tls', 'blocked_address']);

interface DeliveryState {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: string;
  attempt_count: number;
  next_trigger: AttemptTrigger;
  payload: string;
  source_headers: Record<string, string> | null;
}

/**
 * Carries out one attempt of one delivery: the job says which, the delivery row says whether it is
 * still due. Safe to run twice for the same job (at-least-once): the second finds the row moved on.
 */
@Injectable()
export class DeliveryWorker {
  private readonly logger = new Logger(DeliveryWorker.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointCache,
    private readonly endpointsService: EndpointsService,
    private readonly sender: HttpSender,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
  ) {}

  async attempt(job: DeliveryJob): Promise<void> {
    const [state]: DeliveryState[] = await this.db.query(
      `SELECT d.id, d.event_id, d.endpoint_id, d.status, d.attempt_count, d.next_trigger, e.payload, e.source_headers
       FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = $1`,
      [job.deliveryId],
    );
    // Gone (purged), finished, or this attempt already happened: a duplicate or stale job.
    if (!state || state.status !== 'pending' || state.attempt_count !== job.attempt - 1) return;

    const endpoint = await this.endpoints.get(state.endpoint_id);
    if (!endpoint || endpoint.deletedAt) return this.finishWithoutAttempt(state, 'endpoint deleted');
    if (endpoint.disabled) return this.park(state);

    const startedAt = new Date();
    const result = await this.send(endpoint, state, startedAt);
    const outcome = decideOutcome(result, endpoint.retryPolicy, job.attempt, Math.random);
    const recorded = await this.record(state, endpoint, job.attempt, startedAt, result, outcome);
    this.observe(result, outcome);
    if (recorded && outcome.kind === 'retry') {
      await enqueueDeliveries(this.queues, [{ deliveryId: state.id, endpointId: endpoint.id, attempt: job.attempt + 1, delayMs: outcome.delayMs }]).catch((error: Error) =>
        this.logger.warn(`could not enqueue the retry of ${state.id}; the sweeper will: ${error.message}`),
      );
    }
  }

  private send(endpoint: Endpoint, state: DeliveryState, startedAt: Date): Promise<SendResult> {
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(state.source_headers ?? {})) headers[`x-herald-source-${name}`] = value;
    Object.assign(headers, endpoint.headers, {
      'content-type': 'application/json',
      'user-agent': `Herald/${this.config.version}`,
      'webhook-id': state.event_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(this.endpointsService.signingSecrets(endpoint), state.event_id, timestamp, state.payload),
    });
    return this.sender.send({ url: endpoint.url, headers, body: state.payload, timeoutMs: endpoint.timeoutMs });
  }

  /** The attempt row and the delivery's new state in one transaction; false if another run recorded this attempt first. */
  private async record(state: DeliveryState, endpoint: Endpoint, attempt: number, startedAt: Date, result: SendResult, outcome: Outcome): Promise<boolean> {
    const status = outcome.kind === 'succeeded' ? 'succeeded' : outcome.kind === 'dead' ? 'dead' : 'pending';
    const nextAttemptAt = outcome.kind === 'retry' ? new Date(Date.now() + outcome.delayMs) : null;
    const error = outcome.kind === 'succeeded' ? null : outcome.error;
    return this.db.transaction(async (tx) => {
      const updated = await tx.query(
        `UPDATE deliveries SET status = $3, attempt_count = $2, next_attempt_at = $4, next_trigger = 'retry',
                last_status_code = $5, last_error = $6, updated_at = now()
         WHERE id = $1 AND status = 'pending' AND attempt_count = $2 - 1`,
        [state.id, attempt, status, nextAttemptAt, result.statusCode, error],
      );
      if (updated[1] === 0) return false;
      await tx.query(
        `INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, response_body, response_headers, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          newId('att'),
          state.id,
          endpoint.id,
          attempt,
          state.next_trigger,
          startedAt,
          Math.round(result.durationMs),
          result.statusCode,
          result.responseBody,
          result.responseHeaders ? JSON.stringify(result.responseHeaders) : null,
          result.error,
        ],
      );
      await this.recordHealth(tx, endpoint, outcome);
      return true;
    });
  }

  private async recordHealth(tx: { query: DataSource['query'] }, endpoint: Endpoint, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'dead' && outcome.gone) {
      await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'gone', updated_at = now() WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      this.endpoints.changed(endpoint);
    } else if (outcome.kind === 'succeeded') {
      // The cached counter may be stale; skipping a redundant reset keeps successes write-free on the endpoint row.
      if (endpoint.consecutiveFailures > 0 || endpoint.failingSince) {
        await tx.query(`UPDATE endpoints SET consecutive_failures = 0, failing_since = NULL WHERE id = $1`, [endpoint.id]);
        endpoint.consecutiveFailures = 0;
        endpoint.failingSince = null;
      }
    } else {
      await tx.query(`UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, now()) WHERE id = $1`, [endpoint.id]);
      endpoint.consecutiveFailures += 1;
      endpoint.failingSince ??= new Date();
    }
  }

  /** No attempt possible (endpoint deleted): dead-lettered with the reason. */
  private async finishWithoutAttempt(state: DeliveryState, reason: string): Promise<void> {
    await this.db.query(`UPDATE deliveries SET status = 'dead', last_error = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`, [state.id, reason]);
    this.metrics.deliveriesFinished.inc({ status: 'dead' });
  }

  /** The endpoint is disabled: the delivery waits, unscheduled, until the endpoint is enabled again. */
  private async park(state: DeliveryState): Promise<void> {
    await this.db.query(`UPDATE deliveries SET next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending' AND attempt_count = $2`, [state.id, state.attempt_count]);
  }

  private observe(result: SendResult, outcome: Outcome): void {
    const label = outcome.kind === 'succeeded' ? 'success' : result.error === null ? 'http_error' : KNOWN_ERRORS.has(result.error) ? result.error : 'other';
    this.metrics.attempts.inc({ outcome: label });
    this.metrics.attemptDuration.observe(result.durationMs / 1000);
    if (outcome.kind !== 'retry') this.metrics.deliveriesFinished.inc({ status: outcome.kind });
  }
}
