import { CircuitSettings, circuitGate } from '../endpoints/circuit-breaker';
import { circuitOf } from '../endpoints/endpoint-health.store';
import { Endpoint } from '../endpoints/endpoint.entity';
import { DeferredSlot, DeliveryJob, SLOT_LEAD_MS } from '../queues/delivery-queues';

/**
 * The worker's decisions, as pure functions of what it knows (the job, the endpoint, the clock and what a
 * gate answered); the worker carries them out. An attempt passes these stages, each of which may end it:
 *
 *   planAttempt  — is an attempt possible now? (endpoint deleted: finish; disabled: park; circuit open: defer)
 *   planSlot     — the rate limit's answer: a slot near enough to wait for in place, or a deferral to it
 *   planSend     — just before sending: on time for the slot, or too late (take a fresh one, once)
 */
export type Plan =
  /** No attempt will ever be possible: the delivery is dead-lettered with this reason. */
  | { kind: 'finish'; reason: string }
  /** The endpoint is disabled: the delivery waits, unscheduled, until it is enabled. */
  | { kind: 'park' }
  /** Not now: the same attempt runs again after `delayMs` (not an attempt, so nothing is burnt). */
  | { kind: 'defer'; delayMs: number; slot?: DeferredSlot; why: 'circuit' | 'rate-limit' | 'late' | 'in-flight' | 'stale-cache' }
  /** Go on to the gates that need Redis or PostgreSQL: a send slot, an in-flight lease, the circuit's probe. */
  | { kind: 'proceed'; slot: SlotStep; lease: boolean; probe: boolean };

/** The rate limit's step: nothing to do, a slot already reserved for this attempt, or one to reserve now. */
export type SlotStep = { kind: 'none' } | { kind: 'reserved'; at: number } | { kind: 'reserve'; retake: boolean };

/**
 * A reserved slot this close is waited for in place; anything later is a deferral, never a sleep. A deferred job
 * is run this much early and waits out the rest just before sending, so that queue and database latency do not
 * push sends off their slots (and crowd a later second).
 */
export const INLINE_WAIT_MS = SLOT_LEAD_MS;
/**
 * A send this late for its reserved slot gives the slot up and reserves again (a deferral, not an attempt):
 * late sends bunch with punctual ones. Slots at 90 % of the limit (see slotRate) keep every second within
 * limit + 1 as long as sends are at most 111 ms + 1111 ms / limit late. Only once per attempt, so that workers
 * whose clocks disagree by more than this cannot pass an attempt around forever.
 */
export const SLOT_LATE_MS = 100;
/** Spread of the deferrals that end together (a circuit's cool-down). */
export const CIRCUIT_JITTER_MS = 1000;

export type EndpointFacts = Pick<Endpoint, 'deletedAt' | 'disabled' | 'rateLimitPerSecond' | 'maxInFlight' | 'consecutiveFailures' | 'circuitPhase' | 'circuitUntil' | 'circuitCooldownMs'>;

export interface PlanInput {
  job: DeliveryJob;
  /** null: the endpoint no longer exists (purged with its tenant). */
  endpoint: EndpointFacts | null;
  now: number;
  circuit: CircuitSettings;
  /** A random number in [0, 1), for jitter. */
  random: number;
}

export function planAttempt({ job, endpoint, now, circuit, random }: PlanInput): Plan {
  if (!endpoint || endpoint.deletedAt) return { kind: 'finish', reason: 'endpoint deleted' };
  if (endpoint.disabled) return { kind: 'park' };
  const gate = circuitGate(circuitOf(endpoint), new Date(now), circuit);
  if (gate.kind === 'wait') return { kind: 'defer', delayMs: gate.until.getTime() - now + random * CIRCUIT_JITTER_MS, why: 'circuit' };
  return { kind: 'proceed', slot: slotStep(job, endpoint.rateLimitPerSecond, now), lease: !!endpoint.maxInFlight, probe: gate.kind === 'probe' };
}

function slotStep(job: DeliveryJob, limit: number | null, now: number): SlotStep {
  if (!limit) return { kind: 'none' };
  if (job.slotAt === undefined) return { kind: 'reserve', retake: false };
  // Its slot passed while the job waited in a backlog: sending now could crowd this second, so it takes a fresh
  // one (once per attempt).
  if (now - job.slotAt > SLOT_LATE_MS && !job.slotRetaken) return { kind: 'reserve', retake: true };
  return { kind: 'reserved', at: job.slotAt };
}

/** What to do with a slot just reserved `delayMs` from `now`: wait for it here, or defer the job to it. */
export function planSlot(delayMs: number, now: number, retake: boolean, job: DeliveryJob): { kind: 'wait'; at: number } | Extract<Plan, { kind: 'defer' }> {
  const at = now + delayMs;
  if (delayMs <= INLINE_WAIT_MS) return { kind: 'wait', at };
  // The job runs a little early and waits out the rest just before sending.
  return { kind: 'defer', delayMs: Math.max(0, delayMs - INLINE_WAIT_MS), slot: { slotAt: at, slotRetaken: retake || !!job.slotRetaken }, why: 'rate-limit' };
}

/** Just before sending, after waiting for the slot: send, or (too late, and not retaken yet) take a fresh slot. */
export function planSend(slotAt: number | null, now: number, job: DeliveryJob, retaken: boolean): { kind: 'send' } | Extract<Plan, { kind: 'defer' }> {
  if (slotAt === null || now - slotAt <= SLOT_LATE_MS || job.slotRetaken || retaken) return { kind: 'send' };
  return { kind: 'defer', delayMs: 0, slot: { slotRetaken: true }, why: 'late' };
}

/** How long to sleep before sending for a slot: bounded, so a clock that disagrees with the reserving worker's cannot hold it long. */
export function slotWaitMs(slotAt: number | null, now: number): number {
  if (slotAt === null) return 0;
  return Math.max(0, Math.min(slotAt - now, 2 * INLINE_WAIT_MS));
}

/*
 * Ordered delivery by key (an endpoint with `ordering: "key"`, events with an `orderingKey`).
 *
 * A line is (endpoint, orderingKey). Each delivery of a line gets a place (`ordering_seq`) in the publishing
 * transaction (see OrderingLine for why a counter row); one that has a pending delivery before it is written as
 * waiting (next attempt at WAITING_IN_LINE_AT, src/endpoints/ordering.ts) and not queued. The line's head is its
 * pending delivery with the smallest place; only the head may be claimed (DeliveryStore.claim checks it in the claiming statement), so one line has at
 * most one attempt in flight, whichever worker holds which job. A head that fails waits for its retry (the line
 * waits with it); rate limits, the circuit and a disabled endpoint defer or park the head like any delivery, and its
 * successors simply stay unclaimable meanwhile. When the head is finished (succeeded or dead), the transaction that
 * records it also releases the new head (makes it due now) and names it, and the worker queues it after the commit;
 * a kill -9 in between leaves a due head with no job, which the sweeper offers (it offers only heads).
 */

/**
 * Whether recording an attempt finishes its line's head, so that the successor may go: the delivery is in a line,
 * and it became succeeded or dead (a retry keeps the head; a resend asked for meanwhile keeps it pending too).
 */
export function releasesLine(inLine: boolean, status: 'succeeded' | 'pending' | 'dead', resendFollows: boolean): boolean {
  return inLine && status !== 'pending' && !resendFollows;
}

/** A line's new head, as the release found it. */
export interface ReleasedHead {
  deliveryId: string;
  endpointId: string;
  orderingKey: string;
  attemptCount: number;
  /** When it is due (now, for a head released by its predecessor's finish). */
  nextAttemptAt: Date;
}

/** The job of a released head: its next attempt, due at the row's time (never earlier). */
export function releasedJob(head: ReleasedHead, now: number): { deliveryId: string; endpointId: string; attempt: number; delayMs: number } {
  return { deliveryId: head.deliveryId, endpointId: head.endpointId, attempt: head.attemptCount + 1, delayMs: Math.max(0, head.nextAttemptAt.getTime() - now) };
}
