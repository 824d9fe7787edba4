import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { newId } from '../common/ids';
import { isUnavailable } from '../common/error.filter';
import { StopNotice } from '../common/stop-notice';
import { EndpointCache } from '../endpoints/endpoint-cache';
import { EndpointHealthStore, HealthChange } from '../endpoints/endpoint-health.store';
import { Endpoint } from '../endpoints/endpoint.entity';
import { EndpointsService } from '../endpoints/endpoints.service';
import { MetricsService } from '../metrics/metrics.service';
import { OperatorEvents } from '../operator-events/operator-events';
import { DeliveryTracing } from '../tracing/delivery-tracing';
import { DeliveryJob } from '../queues/delivery-queues';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { InFlightGate } from '../rate-limit/in-flight-gate';
import { SlotReservations } from '../rate-limit/slot-reservations';
import { AttemptBudget } from './attempt-budget';
import { Outcome, decideOutcome } from './attempt-outcome';
import { CIRCUIT_JITTER_MS, Plan, ReleasedHead, planAttempt, planSend, planSlot, releasedJob, slotWaitMs } from './attempt-plan';
import { AttemptRecord, AttemptRecorder, Recorded } from './attempt-recorder';
import { ClaimedDelivery, DeliveryStore } from './delivery-store';
import { HeldJobs } from './held-jobs';
import { HttpSender, SendResult } from './http-sender';
import { buildWebhookRequest } from './webhook-request';

const KNOWN_ERRORS = new Set(['timeout', 'connection_refused', 'connection_reset', 'dns', 'tls', 'blocked_address']);
/** Claims, in-flight leases and probes outlast the request's timeout by this much. */
const LEASE_MARGIN_MS = 10_000;
/** The longest timeout an endpoint may have: the claim's lease when the endpoint is not known. */
const MAX_TIMEOUT_MS = 60_000;
/** Attempts of one endpoint waiting in this process for an in-flight lease; more are deferred instead. */
const MAX_LEASE_WAITERS = 1000;
const LEASE_OVERFLOW_DELAY_MS = 5000;
/** Backoff while PostgreSQL cannot take an attempt's record (the request is not sent again meanwhile). */
const RECORD_RETRY_MS = [250, 500, 1000, 2000, 5000];

type Defer = Extract<Plan, { kind: 'defer' }>;

/**
 * Carries out attempts. A job becomes an attempt in typed stages (attempt-plan.ts decides, this carries out):
 *
 *   take      — a place in the worker's budget (fair between endpoints), then the claim in PostgreSQL that
 *               checks the delivery is still due for this attempt and locks it against any other run;
 *   plan      — finish (endpoint deleted), park (disabled), defer (circuit open, rate-limit slot far off);
 *   gates     — the in-flight lease (waiting without polling), the circuit's probe, the slot's last milliseconds;
 *   send      — the signed request (undici, guarded, under the endpoint's deadline);
 *   record    — the attempt and the delivery's next state in one grouped statement, then the endpoint's health
 *               and the next attempt's job.
 *
 * `take` returns once the attempt is under way, so the queue's job completes and the send goes on under the
 * budget alone: the claim, not Bull's lock, guards the attempt from then on.
 *
 * Which failures can make the receiver get one attempt twice (at-least-once, DESIGN.md principle 2): only a
 * worker that dies (or is stopped past its grace) between sending and recording; its claim then lapses and the
 * attempt runs again. Nothing that goes wrong while recording re-sends: PostgreSQL down means the record is
 * retried, not the request; a response PostgreSQL will not store is recorded without it.
 */
@Injectable()
export class DeliveryWorker {
  private readonly logger = new Logger(DeliveryWorker.name);
  readonly budget: AttemptBudget;
  private readonly running = new Set<Promise<void>>();
  /** Told when a stop runs out of grace: the attempts still sending are cut off. */
  private readonly stop = new StopNotice();
  private stopping = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly endpoints: EndpointCache,
    private readonly endpointsService: EndpointsService,
    private readonly health: EndpointHealthStore,
    private readonly sender: HttpSender,
    private readonly scheduler: DeliveryScheduler,
    private readonly slots: SlotReservations,
    private readonly inFlight: InFlightGate,
    private readonly recorder: AttemptRecorder,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly operatorEvents: OperatorEvents,
    private readonly tracing: DeliveryTracing,
    private readonly held: HeldJobs,
  ) {
    this.budget = new AttemptBudget(config.workerConcurrency);
    metrics.watchGroupCommitQueue('attempt', () => recorder.queued);
    metrics.watchJobsHeld(() => this.held.size);
  }

  /** Attempts under way in this process (sending, or waiting at a gate or for a place). */
  get attemptsUnderWay(): number {
    return this.running.size;
  }

  /** Jobs held in this process, waiting for a place in the budget. */
  get jobsHeld(): number {
    return this.held.size;
  }

  /**
   * One job: resolves once its attempt is under way or decided without one. Throws only when the job could not
   * be looked at (PostgreSQL unreachable, the worker stopping): the queue then offers it again.
   */
  async take(job: DeliveryJob): Promise<void> {
    if (this.stopping) throw new Error('the worker is stopping');
    if (!this.budget.tryAcquire(job.endpointId)) {
      // Offered again (by another process's sweeper) while this process holds it.
      if (this.held.has(job.deliveryId, job.attempt)) return;
      if (this.held.size < this.config.workerHoldMax) return this.hold(job);
      // As many held as allowed: this job waits in the queue's hands, and the shard waits with it.
      await this.budget.acquire(job.endpointId);
    }
    return this.takeWithPlace(job);
  }

  /**
   * A job whose endpoint must wait for a place in the budget is held here and its queue job completes at once, so
   * the shard's consumer goes on to the jobs behind it: a hot endpoint's backlog waits in this process, in the
   * budget's fair line, instead of in front of its shard's other endpoints in Redis (head-of-line blocking). Held
   * jobs are unclaimed: if this process dies, their deliveries are pending and due in PostgreSQL and the sweeper
   * offers them again; if it stops, they go back to the queues.
   */
  private hold(job: DeliveryJob): void {
    this.held.add(job);
    this.track(
      this.budget.acquire(job.endpointId).then(() => {
        if (!this.held.delete(job) || this.stopping) {
          this.budget.release(job.endpointId);
          return;
        }
        return this.takeWithPlace(job);
      }),
    );
  }

  /** The rest of `take`, with a place of the budget held (released here unless handed over to the attempt). */
  private async takeWithPlace(job: DeliveryJob): Promise<void> {
    let handedOver = false;
    try {
      if (this.stopping) throw new Error('the worker is stopping');
      const endpoint = await this.endpoints.get(job.endpointId);
      const leaseMs = (endpoint?.timeoutMs ?? MAX_TIMEOUT_MS) + LEASE_MARGIN_MS;
      const delivery = await this.store.claim(job.deliveryId, job.attempt, leaseMs);
      // Stale (moved on, purged), not due yet, or another run holds it: this job has nothing to do.
      if (!delivery) return;
      const plan = planAttempt({ job, endpoint, now: Date.now(), circuit: this.health.settings, random: Math.random() });
      if (plan.kind === 'finish') return await this.finish(delivery, plan.reason);
      if (plan.kind === 'park') return await this.park(job, delivery, endpoint!);
      if (plan.kind === 'defer') return await this.defer(job, delivery, plan);

      let slotAt: number | null = null;
      if (plan.slot.kind === 'reserved') slotAt = plan.slot.at;
      if (plan.slot.kind === 'reserve') {
        const delayMs = await this.slots.reserve(endpoint!.id, endpoint!.rateLimitPerSecond!);
        const step = planSlot(delayMs, Date.now(), plan.slot.retake, job);
        if (step.kind === 'defer') return await this.defer(job, delivery, step);
        slotAt = step.at;
      }
      handedOver = true;
      this.track(this.attempt(job, delivery, endpoint!, { lease: plan.lease, probe: plan.probe, slotAt, retaken: plan.slot.kind === 'reserve' && plan.slot.retake, leaseMs }));
    } finally {
      if (!handedOver) this.budget.release(job.endpointId);
    }
  }

  /**
   * Stops taking jobs, lets attempts under way finish for up to `graceMs`, then cuts off the rest: those are
   * not recorded (not the receiver's failure) and their claims go, so another worker makes them at once.
   */
  /** Takes no more jobs from now on: the first thing a stop does, before anything else is closed. */
  stopTaking(): void {
    this.stopping = true;
  }

  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    // Held jobs go back to the queues for another worker (the sweeper would find them too, after its grace).
    const held = this.held.takeAll();
    await this.scheduler.dispatch(held.map((j) => ({ deliveryId: j.deliveryId, endpointId: j.endpointId, attempt: j.attempt })), 'hand back');
    const settled = Promise.allSettled([...this.running]);
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref());
    if ((await Promise.race([settled, timer])) === 'late') {
      this.logger.warn(`${this.running.size} attempts still in flight after ${graceMs} ms: cutting them off; they will be made again`);
      this.stop.stop();
      await Promise.allSettled([...this.running]);
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: Error) => this.logger.warn(`an attempt stopped before it was made (it will be offered again): ${error.message}`));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  /** The gates that may wait (in-flight lease, probe, the slot's last milliseconds), then the send. Owns the job's budget place. */
  private async attempt(job: DeliveryJob, delivery: ClaimedDelivery, endpoint: Endpoint, gates: { lease: boolean; probe: boolean; slotAt: number | null; retaken: boolean; leaseMs: number }): Promise<void> {
    let placeHeld = true;
    let lease: string | null = null;
    try {
      if (gates.lease) {
        if (this.inFlight.waitingFor(endpoint.id) >= MAX_LEASE_WAITERS) {
          return await this.defer(job, delivery, { kind: 'defer', delayMs: LEASE_OVERFLOW_DELAY_MS * (1 + Math.random()), why: 'in-flight' });
        }
        // Waiting for a lease holds no place of the budget: other endpoints use it meanwhile.
        this.budget.release(job.endpointId);
        placeHeld = false;
        const token = randomUUID();
        const waitedFrom = Date.now();
        await this.inFlight.acquire(endpoint.id, endpoint.maxInFlight!, gates.leaseMs, token);
        lease = token;
        await this.budget.acquire(job.endpointId);
        placeHeld = true;
        // A long wait may have outlasted part of the claim: extend it, or stop if it was lost meanwhile.
        if (Date.now() - waitedFrom > LEASE_MARGIN_MS / 2 && !(await this.store.extend(delivery.id, delivery.attemptCount, gates.leaseMs))) return;
      }
      let probe = false;
      if (gates.probe) {
        const claimed = await this.health.claimProbe(endpoint, gates.leaseMs);
        if (claimed.kind === 'wait') return await this.defer(job, delivery, { kind: 'defer', delayMs: claimed.until.getTime() - Date.now() + Math.random() * CIRCUIT_JITTER_MS, why: 'circuit' });
        probe = claimed.kind === 'probe';
      }
      const wait = slotWaitMs(gates.slotAt, Date.now());
      if (wait > 0) await sleep(wait);
      const go = planSend(gates.slotAt, Date.now(), job, gates.retaken);
      if (go.kind === 'defer') return await this.defer(job, delivery, go);
      // A stop began while this attempt waited for its turn: nothing was sent, so it is left to another worker.
      if (this.stopping) return await this.store.release(delivery.id, delivery.attemptCount);
      await this.sendAndRecord(job, delivery, endpoint, probe);
    } finally {
      if (lease) await this.inFlight.release(endpoint.id, lease).catch((error: Error) => this.logger.warn(`could not release an in-flight lease (it expires): ${error.message}`));
      if (placeHeld) this.budget.release(job.endpointId);
    }
  }

  private async sendAndRecord(job: DeliveryJob, delivery: ClaimedDelivery, endpoint: Endpoint, probe: boolean): Promise<void> {
    const startedAt = new Date();
    const result = await this.send(endpoint, delivery, startedAt, job.attempt);
    if (result.abortedByHerald) {
      await this.store.release(delivery.id, delivery.attemptCount).catch(() => undefined);
      return;
    }
    const outcome = decideOutcome(result, endpoint.retryPolicy, job.attempt, Math.random);
    const succeeded = outcome.kind === 'succeeded';
    // The cached counters may be stale; skipping a redundant reset keeps successes write-free on the endpoint row.
    const reset = succeeded && (endpoint.consecutiveFailures > 0 || !!endpoint.failingSince || !!endpoint.circuitPhase || probe);
    const recorded = await this.recordDurably({
      id: newId('att'),
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      attempt: job.attempt,
      trigger: delivery.trigger,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      responseBody: result.responseBody,
      responseBodyEncoding: result.responseBodyEncoding,
      responseHeaders: result.responseHeaders,
      responseHeadersBase64: result.responseHeadersBase64,
      error: result.error,
      status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
      nextAttemptAt: outcome.kind === 'retry' ? new Date(Date.now() + outcome.delayMs) : null,
      lastError: succeeded ? null : outcome.error,
      resetEndpointHealth: reset,
      lineKey: delivery.lineKey,
    });
    this.observe(endpoint, result, outcome, recorded);
    if (!recorded.recorded) return;
    await this.release(recorded.released);
    if (outcome.kind === 'dead') {
      this.operatorEvents.emit({ type: 'delivery.dead', tenantId: endpoint.tenantId, endpointId: endpoint.id, deliveryId: delivery.id, eventId: delivery.eventId, eventType: delivery.eventType, attempts: job.attempt, lastError: outcome.error });
    }
    if (recorded.resendFollows) {
      await this.scheduler.dispatch([{ deliveryId: delivery.id, endpointId: endpoint.id, attempt: job.attempt + 1 }], 'resend');
    } else if (outcome.kind === 'retry') {
      await this.scheduler.dispatch([{ deliveryId: delivery.id, endpointId: endpoint.id, attempt: job.attempt + 1, delayMs: outcome.delayMs }], 'retry');
    }
    if (!succeeded) {
      const change = await this.health.recordFailure(endpoint, outcome.kind === 'dead' && outcome.gone, probe).catch((error: Error) => {
        this.logger.warn(`could not update the health of endpoint ${endpoint.id}: ${error.message}`);
        return null;
      });
      if (change) this.emitHealthChange(endpoint, change, probe);
    } else if (reset) {
      this.health.recordReset(endpoint, endpoint.circuitPhase !== null || probe);
      // The probe of an open circuit succeeded: the circuit closed (once, whichever worker probed).
      if (probe) this.operatorEvents.emit({ type: 'endpoint.recovered', tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url });
    }
  }

  /** Operator events for a committed health change: a circuit that opened (a failed probe re-opening it is not news), a disable. */
  private emitHealthChange(endpoint: Endpoint, change: HealthChange, probe: boolean): void {
    const about = { tenantId: endpoint.tenantId, endpointId: endpoint.id, url: endpoint.url };
    if (change.circuitOpened && !probe) {
      this.operatorEvents.emit({ type: 'endpoint.circuit_opened', ...about, consecutiveFailures: endpoint.consecutiveFailures, retryAt: (endpoint.circuitUntil ?? new Date()).toISOString() });
    }
    if (change.disabled) this.operatorEvents.emit({ type: 'endpoint.disabled', ...about, reason: change.disabled, ...(endpoint.failingSince ? { failingSince: new Date(endpoint.failingSince).toISOString() } : {}) });
  }

  /**
   * Records an answered attempt whatever happens to PostgreSQL meanwhile: an unreachable database is retried
   * (the request is never sent again for it); the recorder itself writes what it can of an answer it cannot store.
   */
  private async recordDurably(record: AttemptRecord): Promise<Recorded> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.recorder.record(record);
      } catch (error) {
        if (!isUnavailable(error) || this.stop.stopped) throw error;
        if (tries === 0) this.logger.warn(`PostgreSQL cannot take the record of attempt ${record.attempt} of ${record.deliveryId}; retrying the record (not the request)`);
        await sleep(RECORD_RETRY_MS[Math.min(tries, RECORD_RETRY_MS.length - 1)]);
      }
    }
  }

  /**
   * The request, in the attempt's span (in the event's trace) and counted as in flight while it runs.
   * A failed transformation is a failed attempt that sent nothing (retried, logged, resendable like any other).
   */
  private send(endpoint: Endpoint, delivery: ClaimedDelivery, startedAt: Date, attempt: number): Promise<SendResult> {
    const span = { url: endpoint.url, attempt, tenantId: endpoint.tenantId, endpointId: endpoint.id, deliveryId: delivery.id, eventId: delivery.eventId };
    return this.tracing.attempt(delivery.traceContext, span, async (traceparent) => {
      const built = await buildWebhookRequest({
        endpoint,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        payload: delivery.payload,
        sourceHeaders: delivery.sourceHeaders,
        signingSecrets: this.endpointsService.signingSecrets(endpoint),
        userAgent: `Herald/${this.config.version}`,
        startedAt,
        traceparent,
      });
      if (!built.ok) {
        return { statusCode: null, responseBody: null, responseBodyEncoding: null, responseHeaders: null, responseHeadersBase64: null, error: built.error, durationMs: Date.now() - startedAt.getTime(), retryAfterMs: null };
      }
      return this.metrics.trackInFlight(() => this.sender.send(built.request, this.stop));
    });
  }

  /** Re-schedules this attempt for later without making it; the row moves too, so the sweeper does not offer it before then. */
  private async defer(job: DeliveryJob, delivery: ClaimedDelivery, plan: Defer): Promise<void> {
    const delayMs = Math.max(0, Math.ceil(plan.delayMs));
    if (await this.store.defer(delivery.id, delivery.attemptCount, delayMs)) await this.scheduler.defer(job, delayMs, plan.slot);
  }

  /** Parks the delivery if its endpoint is still disabled; if it was enabled meanwhile, the cache was stale: try again now. */
  private async park(job: DeliveryJob, delivery: ClaimedDelivery, endpoint: Endpoint): Promise<void> {
    if ((await this.store.park(delivery.id, delivery.attemptCount)) !== 'enabled') return;
    this.endpoints.changed(endpoint);
    await this.defer(job, delivery, { kind: 'defer', delayMs: 0, why: 'stale-cache' });
  }

  private async finish(delivery: ClaimedDelivery, reason: string): Promise<void> {
    const { finished, released } = await this.store.finishWithoutAttempt(delivery, reason);
    if (finished) this.metrics.recordFinished(null, delivery.endpointId, 'dead');
    await this.release(released);
  }

  /** Queues the new heads of lines this worker's finish released (committed already; the sweeper covers a lost enqueue). */
  private async release(heads: ReleasedHead[]): Promise<void> {
    if (!heads.length) return;
    const now = Date.now();
    await this.scheduler.release(heads.map((h) => releasedJob(h, now)));
  }

  private observe(endpoint: Endpoint, result: SendResult, outcome: Outcome, recorded: Recorded): void {
    const label = outcome.kind === 'succeeded' ? 'success' : result.error === null ? 'http_error' : KNOWN_ERRORS.has(result.error) ? result.error : 'other';
    const finished = recorded.recorded && outcome.kind !== 'retry' && !recorded.resendFollows ? outcome.kind : null;
    this.metrics.recordAttempt({ tenantId: endpoint.tenantId, endpointId: endpoint.id, outcome: label, durationMs: result.durationMs, finished });
  }
}
