import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { OperatorEvent } from '../operator-events/operator-event';
import { OperatorEvents } from '../operator-events/operator-events';
import { DELIVERY_QUEUES, DeliveryJob, DeliveryQueues, SLOT_LEAD_MS, deferDelivery, enqueueDeliveries } from '../queues/delivery-queues';
import { InFlightLimiter } from '../rate-limit/in-flight';
import { SlotReservations } from '../rate-limit/slot-reservations';
import { AttemptClaim } from './attempt-claim';
import { Outcome, decideOutcome } from './attempt-outcome';
import { CircuitSettings, CircuitState, afterFailure, circuitGate, probing, shouldDisable } from './circuit-breaker';
import { AttemptRecorder } from './attempt-recorder';
import { DeliveryState, DeliveryStateLoader } from './delivery-state-loader';
import { HttpSender, SendResult } from './http-sender';
import { buildWebhookRequest } from './webhook-request';

const KNOWN_ERRORS = new Set(['timeout', 'connection_refused', 'connection_reset', 'dns', 'tls', 'blocked_address']);
/**
 * A reserved slot this close is waited for in place; anything later is a deferral, never a sleep.
 * A deferred job is also run this much early and waits out the rest just before sending, so that
 * queue and database latency do not push sends off their slots (and crowd a later second).
 */
const INLINE_WAIT_MS = SLOT_LEAD_MS;
/**
 * A send this late for its reserved slot gives the slot up and reserves again (a deferral, not an
 * attempt): late sends bunch with punctual ones. Slots at 90 % of the limit (see slotRate) keep every
 * second within limit + 1 as long as sends are at most 111 ms + 1111 ms / limit late. Only once per
 * attempt, so that workers whose clocks disagree by more than this cannot pass an attempt around forever.
 */
const SLOT_LATE_MS = 100;
/** Leases (in-flight, attempt claim, probe) outlast the request's timeout by this much. */
const LEASE_MARGIN_MS = 10_000;
/** Spread of the deferrals that end together (a circuit's cool-down, a refused in-flight lease). */
const CIRCUIT_JITTER_MS = 1000;
const IN_FLIGHT_JITTER_MS = 200;

type Failure = Exclude<Outcome, { kind: 'succeeded' }>;

interface CircuitRow {
  consecutive_failures: number;
  failing_since: Date | null;
  circuit_phase: CircuitState['phase'];
  circuit_until: Date | null;
  circuit_cooldown_ms: number | null;
}

function circuitOf(e: Endpoint): CircuitState {
  return { consecutiveFailures: e.consecutiveFailures, phase: e.circuitPhase, until: e.circuitUntil, cooldownMs: e.circuitCooldownMs };
}

function circuitOfRow(r: CircuitRow): CircuitState {
  return { consecutiveFailures: r.consecutive_failures, phase: r.circuit_phase, until: r.circuit_until, cooldownMs: r.circuit_cooldown_ms };
}

/**
 * Carries out one attempt of one delivery: the job says which, the delivery row says whether it is
 * still due. Safe to run twice for the same job (at-least-once): the second finds the row moved on.
 *
 * Before sending, the endpoint's limits apply in this order: circuit (open: wait for the cool-down),
 * rate limit (reserve a slot), in-flight cap (take a lease), the circuit's probe. A job that must wait
 * is re-scheduled as a new delayed job and returns at once, freeing its concurrency slot for other
 * endpoints; the wait is not an attempt.
 */
@Injectable()
export class DeliveryWorker {
  private readonly logger = new Logger(DeliveryWorker.name);
  /** Attempts are recorded with group commit; the state of jobs that start together is loaded in one query. */
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointCache,
    private readonly endpointsService: EndpointsService,
    private readonly sender: HttpSender,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
    private readonly slots: SlotReservations,
    private readonly inFlight: InFlightLimiter,
    private readonly claims: AttemptClaim,
    private readonly recorder: AttemptRecorder,
    private readonly states: DeliveryStateLoader,
    private readonly operatorEvents: OperatorEvents,
  ) {}

  private get circuitSettings(): CircuitSettings {
    return { threshold: this.config.circuitThreshold, cooldownMs: this.config.circuitCooldownMs };
  }

  async attempt(job: DeliveryJob): Promise<void> {
    const state = await this.states.load(job.deliveryId);
    // Gone (purged), finished, or this attempt already happened: a duplicate or stale job.
    if (!state || state.status !== 'pending' || state.attempt_count !== job.attempt - 1) return;

    const endpoint = await this.endpoints.get(state.endpoint_id);
    if (!endpoint || endpoint.deletedAt) return this.finishWithoutAttempt(state, 'endpoint deleted');
    if (endpoint.disabled) return this.park(state);

    const gate = circuitGate(circuitOf(endpoint), new Date(), this.circuitSettings);
    if (gate.kind === 'wait') return this.defer(state, endpoint, job, gate.until.getTime() - Date.now() + Math.random() * CIRCUIT_JITTER_MS);

    let sendAt = endpoint.rateLimitPerSecond && job.slotReserved && job.sendAt ? job.sendAt : null;
    if (sendAt !== null && Date.now() - sendAt > SLOT_LATE_MS && !job.slotMissed) {
      // Its slot passed while the job waited in a backlog: sending now could crowd this second, so it
      // takes a fresh slot, here when one is free now (no queue cycle), else as a deferral. Once per attempt.
      job = { ...job, slotMissed: true };
      const delayMs = await this.slots.reserve(endpoint.id, endpoint.rateLimitPerSecond!);
      sendAt = Date.now() + delayMs;
      if (delayMs > INLINE_WAIT_MS) return this.defer(state, endpoint, job, delayMs, { sendAt, slotMissed: true });
    }
    if (endpoint.rateLimitPerSecond && !job.slotReserved) {
      const delayMs = await this.slots.reserve(endpoint.id, endpoint.rateLimitPerSecond);
      sendAt = Date.now() + delayMs;
      if (delayMs > INLINE_WAIT_MS) return this.defer(state, endpoint, job, delayMs, { sendAt });
    }

    const leaseMs = endpoint.timeoutMs + LEASE_MARGIN_MS;
    const lease = endpoint.maxInFlight ? randomUUID() : null;
    if (lease) {
      const acquired = await this.inFlight.acquire(endpoint.id, endpoint.maxInFlight!, leaseMs, lease);
      // A reserved slot is not carried over: sending later than it could crowd a later second.
      if (!acquired.ok) return this.defer(state, endpoint, job, acquired.retryInMs + Math.random() * IN_FLIGHT_JITTER_MS);
    }
    try {
      let probe = false;
      if (gate.kind === 'probe') {
        const claimed = await this.claimProbe(endpoint, leaseMs);
        if (claimed.kind === 'wait') return await this.defer(state, endpoint, job, claimed.until.getTime() - Date.now() + Math.random() * CIRCUIT_JITTER_MS);
        probe = claimed.kind === 'probe';
      }
      if (!(await this.claims.take(state.id, job.attempt, leaseMs))) return; // another run is sending this attempt
      try {
        if (sendAt !== null) {
          // Bounded: a clock that disagrees with the reserving worker's must not hold this slot long.
          const early = sendAt - Date.now();
          if (early > 0) await sleep(Math.min(early, 2 * INLINE_WAIT_MS));
          if (Date.now() - sendAt > SLOT_LATE_MS && !job.slotMissed) return await this.defer(state, endpoint, job, 0, { slotMissed: true });
        }
        await this.sendAndRecord(state, endpoint, job, probe);
      } finally {
        this.claims.release(state.id, job.attempt);
      }
    } finally {
      if (lease) await this.inFlight.release(endpoint.id, lease).catch((error: Error) => this.logger.warn(`could not release an in-flight lease (it expires): ${error.message}`));
    }
  }

  private async sendAndRecord(state: DeliveryState, endpoint: Endpoint, job: DeliveryJob, probe: boolean): Promise<void> {
    const startedAt = new Date();
    const result = await this.send(endpoint, state, startedAt);
    const outcome = decideOutcome(result, endpoint.retryPolicy, job.attempt, Math.random);
    const recorded = await this.record(state, endpoint, job.attempt, startedAt, result, outcome, probe);
    this.observe(result, outcome);
    if (recorded && outcome.kind === 'retry') {
      await enqueueDeliveries(this.queues, [{ deliveryId: state.id, endpointId: endpoint.id, attempt: job.attempt + 1, delayMs: outcome.delayMs }]).catch((error: Error) =>
        this.logger.warn(`could not enqueue the retry of ${state.id}; the sweeper will: ${error.message}`),
      );
    }
  }

  /**
   * Re-schedules this attempt for later without making it (rate limit, in-flight cap, open circuit).
   * The row's next_attempt_at moves too, so the sweeper does not offer it again before then.
   */
  private async defer(state: DeliveryState, endpoint: Endpoint, job: DeliveryJob, delayMs: number, next: Pick<DeliveryJob, 'sendAt' | 'slotMissed'> = {}): Promise<void> {
    const delay = Math.max(0, Math.ceil(delayMs));
    const updated = await this.db.query(
      `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $3::float / 1000), updated_at = now()
       WHERE id = $1 AND status = 'pending' AND attempt_count = $2`,
      [state.id, state.attempt_count, delay],
    );
    if (updated[1] === 0) return;
    // A job for a reserved slot runs a little early and waits out the rest just before sending.
    await deferDelivery(this.queues, endpoint.id, job, next.sendAt !== undefined ? Math.max(0, delay - INLINE_WAIT_MS) : delay, next);
  }

  /**
   * The cool-down is over: one attempt, across all workers, probes. The others find the probe out (or
   * the circuit already closed, or re-opened) in PostgreSQL and act on that.
   */
  private async claimProbe(endpoint: Endpoint, leaseMs: number): Promise<{ kind: 'probe' } | { kind: 'send' } | { kind: 'wait'; until: Date }> {
    const now = new Date();
    const next = probing(circuitOf(endpoint), now, leaseMs);
    const [claimed] = await this.db.query(
      `UPDATE endpoints SET circuit_phase = 'probing', circuit_until = $2
       WHERE id = $1 AND circuit_phase IS NOT NULL AND circuit_until <= $3 AND consecutive_failures >= $4
       RETURNING id`,
      [endpoint.id, next.until, now, this.circuitSettings.threshold],
    );
    if (claimed.length) {
      Object.assign(endpoint, { circuitPhase: next.phase, circuitUntil: next.until });
      this.endpoints.changed(endpoint);
      return { kind: 'probe' };
    }
    const [row]: CircuitRow[] = await this.db.query(
      `SELECT consecutive_failures, failing_since, circuit_phase, circuit_until, circuit_cooldown_ms FROM endpoints WHERE id = $1`,
      [endpoint.id],
    );
    const gate = row ? circuitGate(circuitOfRow(row), now, this.circuitSettings) : { kind: 'send' as const };
    // Still "probe" means the state moved under us; look again shortly rather than race for it.
    if (gate.kind === 'probe') return { kind: 'wait', until: new Date(now.getTime() + 1000) };
    return gate;
  }

  private async send(endpoint: Endpoint, state: DeliveryState, startedAt: Date): Promise<SendResult> {
    const built = await buildWebhookRequest({
      endpoint,
      eventId: state.event_id,
      eventType: state.event_type,
      payload: state.payload,
      sourceHeaders: state.source_headers,
      signingSecrets: this.endpointsService.signingSecrets(endpoint),
      userAgent: `Herald/${this.config.version}`,
      startedAt,
    });
    // A failed transformation is a failed attempt that sent nothing (retried, logged, resendable like any other).
    if (!built.ok) return { statusCode: null, responseBody: null, responseHeaders: null, error: built.error, durationMs: Date.now() - startedAt.getTime(), retryAfterMs: null };
    return this.sender.send(built.request);
  }

  /**
   * The attempt row and the delivery's new state, atomically, in one grouped statement with other attempts
   * finishing at the same time; false if another run recorded this attempt first. A success resets the
   * endpoint's health in that statement only if there is something to reset; a failure then moves the
   * endpoint's counters and circuit in a transaction of its own (it reads them back under the row lock).
   */
  private async record(state: DeliveryState, endpoint: Endpoint, attempt: number, startedAt: Date, result: SendResult, outcome: Outcome, probe: boolean): Promise<boolean> {
    const succeeded = outcome.kind === 'succeeded';
    // The cached counter may be stale; skipping a redundant reset keeps successes write-free on the endpoint row.
    const reset = succeeded && (endpoint.consecutiveFailures > 0 || !!endpoint.failingSince || !!endpoint.circuitPhase || probe);
    const recorded = await this.recorder.record({
      id: newId('att'),
      deliveryId: state.id,
      endpointId: endpoint.id,
      attempt,
      trigger: state.next_trigger,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      responseBody: result.responseBody,
      responseHeaders: result.responseHeaders,
      error: result.error,
      status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
      nextAttemptAt: outcome.kind === 'retry' ? new Date(Date.now() + outcome.delayMs) : null,
      lastError: outcome.kind === 'succeeded' ? null : outcome.error,
      resetEndpointHealth: reset,
    });
    if (!recorded) return false;
    if (outcome.kind === 'dead') {
      this.operatorEvents.emit({ type: 'delivery.dead', tenantId: endpoint.tenantId, endpointId: endpoint.id, deliveryId: state.id, eventId: state.event_id, eventType: state.event_type, attempts: attempt, lastError: outcome.error });
    }
    if (outcome.kind !== 'succeeded') {
      const changes: OperatorEvent[] = [];
      const healthChanged = await this.db.transaction((tx) => this.recordHealth(tx, endpoint, outcome, probe, changes));
      // After the commit, or another process could reload the endpoint's old state and keep it for the cache's TTL.
      if (healthChanged) this.endpoints.changed(endpoint);
      for (const change of changes) this.operatorEvents.emit(change);
    } else if (reset) {
      if (probe) this.operatorEvents.emit({ type: 'endpoint.recovered', tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url });
      const wasOpen = endpoint.circuitPhase !== null || probe;
      Object.assign(endpoint, { consecutiveFailures: 0, failingSince: null, circuitPhase: null, circuitUntil: null, circuitCooldownMs: null });
      // Other workers hold deliveries back while they think the circuit open: tell them it closed.
      if (wasOpen) this.endpoints.changed(endpoint);
    }
    return true;
  }

  /** After a failure: updates the endpoint's health counters, circuit and auto-disable; true when other processes should reload it. */
  private async recordHealth(tx: { query: DataSource['query'] }, endpoint: Endpoint, outcome: Failure, probe: boolean, changes: OperatorEvent[]): Promise<boolean> {
    if (outcome.kind === 'dead' && outcome.gone) {
      const [, disabled] = await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'gone', updated_at = now() WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      if (disabled) changes.push({ type: 'endpoint.disabled', tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url, reason: 'gone' });
      return true;
    }
    const [[row]]: [CircuitRow[], number] = await tx.query(
      `UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, now()) WHERE id = $1
       RETURNING consecutive_failures, failing_since, circuit_phase, circuit_until, circuit_cooldown_ms`,
      [endpoint.id],
    );
    if (!row) return false;
    const now = new Date();
    const before = circuitOfRow(row);
    const after = afterFailure(before, row.consecutive_failures, now, this.circuitSettings, probe);
    const circuitMoved = after.phase !== before.phase || after.until?.getTime() !== before.until?.getTime() || after.cooldownMs !== before.cooldownMs;
    if (circuitMoved) {
      await tx.query(`UPDATE endpoints SET circuit_phase = $2, circuit_until = $3, circuit_cooldown_ms = $4 WHERE id = $1`, [endpoint.id, after.phase, after.until, after.cooldownMs]);
      if (after.phase === 'open') this.logger.warn(`circuit of endpoint ${endpoint.id} open until ${after.until!.toISOString()} after ${row.consecutive_failures} consecutive failures`);
      if (after.phase === 'open' && before.phase === null) {
        changes.push({ type: 'endpoint.circuit_opened', tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url, consecutiveFailures: row.consecutive_failures, retryAt: after.until!.toISOString() });
      }
    }
    const disable = shouldDisable(row.failing_since, now, this.config.disableAfterMs);
    if (disable) {
      const [, disabled] = await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'failing', updated_at = now() WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      if (disabled) changes.push({ type: 'endpoint.disabled', tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url, reason: 'failing', failingSince: row.failing_since!.toISOString() });
      this.logger.warn(`endpoint ${endpoint.id} disabled: failing since ${row.failing_since!.toISOString()}`);
    }
    Object.assign(endpoint, {
      consecutiveFailures: row.consecutive_failures,
      failingSince: row.failing_since,
      circuitPhase: after.phase,
      circuitUntil: after.until,
      circuitCooldownMs: after.cooldownMs,
    });
    if (disable) Object.assign(endpoint, { disabled: true, disabledReason: 'failing' });
    return circuitMoved || disable;
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
