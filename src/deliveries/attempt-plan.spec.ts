import { DeliveryJob } from '../queues/delivery-queues';
import { CIRCUIT_JITTER_MS, EndpointFacts, INLINE_WAIT_MS, PlanInput, SLOT_LATE_MS, planAttempt, planSend, planSlot, releasedJob, releasesLine, slotWaitMs } from './attempt-plan';

const circuit = { threshold: 3, cooldownMs: 60_000 };
const now = 1_000_000;
const job: DeliveryJob = { v: 1, deliveryId: 'dlv_1', endpointId: 'ep_1', attempt: 1 };
const healthy: EndpointFacts = { deletedAt: null, disabled: false, rateLimitPerSecond: null, maxInFlight: null, consecutiveFailures: 0, circuitPhase: null, circuitUntil: null, circuitCooldownMs: null };
const input = (endpoint: Partial<EndpointFacts> | null, j: Partial<DeliveryJob> = {}): PlanInput => ({
  job: { ...job, ...j },
  endpoint: endpoint === null ? null : { ...healthy, ...endpoint },
  now,
  circuit,
  random: 0.5,
});

describe('planAttempt', () => {
  it('finishes a delivery whose endpoint is gone or deleted', () => {
    expect(planAttempt(input(null))).toEqual({ kind: 'finish', reason: 'endpoint deleted' });
    expect(planAttempt(input({ deletedAt: new Date(now) }))).toEqual({ kind: 'finish', reason: 'endpoint deleted' });
  });

  it('parks a delivery of a disabled endpoint', () => {
    expect(planAttempt(input({ disabled: true }))).toEqual({ kind: 'park' });
  });

  it('defers to the end of an open circuit, with jitter', () => {
    const until = new Date(now + 30_000);
    expect(planAttempt(input({ consecutiveFailures: 3, circuitPhase: 'open', circuitUntil: until, circuitCooldownMs: 60_000 }))).toEqual({
      kind: 'defer',
      delayMs: 30_000 + 0.5 * CIRCUIT_JITTER_MS,
      why: 'circuit',
    });
  });

  it('proceeds with a probe once the cool-down is over', () => {
    const plan = planAttempt(input({ consecutiveFailures: 3, circuitPhase: 'open', circuitUntil: new Date(now - 1), circuitCooldownMs: 60_000 }));
    expect(plan).toEqual({ kind: 'proceed', slot: { kind: 'none' }, lease: false, probe: true });
  });

  it('proceeds straight to sending without limits', () => {
    expect(planAttempt(input({}))).toEqual({ kind: 'proceed', slot: { kind: 'none' }, lease: false, probe: false });
  });

  it('asks for an in-flight lease when maxInFlight is set', () => {
    expect(planAttempt(input({ maxInFlight: 2 }))).toMatchObject({ kind: 'proceed', lease: true });
  });

  it('reserves a slot for a rate-limited endpoint, or keeps the one the job carries', () => {
    expect(planAttempt(input({ rateLimitPerSecond: 5 }))).toMatchObject({ slot: { kind: 'reserve', retake: false } });
    expect(planAttempt(input({ rateLimitPerSecond: 5 }, { slotAt: now + 10 }))).toMatchObject({ slot: { kind: 'reserved', at: now + 10 } });
    expect(planAttempt(input({ rateLimitPerSecond: 5 }, { slotAt: now - SLOT_LATE_MS }))).toMatchObject({ slot: { kind: 'reserved', at: now - SLOT_LATE_MS } });
  });

  it('retakes a slot that passed while the job waited, once per attempt', () => {
    expect(planAttempt(input({ rateLimitPerSecond: 5 }, { slotAt: now - SLOT_LATE_MS - 1 }))).toMatchObject({ slot: { kind: 'reserve', retake: true } });
    expect(planAttempt(input({ rateLimitPerSecond: 5 }, { slotAt: now - 5000, slotRetaken: true }))).toMatchObject({ slot: { kind: 'reserved', at: now - 5000 } });
  });

  it('ignores a slot the job carries once the endpoint has no limit', () => {
    expect(planAttempt(input({}, { slotAt: now + 500 }))).toMatchObject({ slot: { kind: 'none' } });
  });
});

describe('planSlot', () => {
  it('waits in place for a slot that is near', () => {
    expect(planSlot(INLINE_WAIT_MS, now, false, job)).toEqual({ kind: 'wait', at: now + INLINE_WAIT_MS });
    expect(planSlot(0, now, true, job)).toEqual({ kind: 'wait', at: now });
  });

  it('defers to a slot that is far, running just before it, carrying the slot and whether it was retaken', () => {
    expect(planSlot(1000, now, false, job)).toEqual({ kind: 'defer', delayMs: 1000 - INLINE_WAIT_MS, slot: { slotAt: now + 1000, slotRetaken: false }, why: 'rate-limit' });
    expect(planSlot(1000, now, true, job)).toMatchObject({ slot: { slotRetaken: true } });
    expect(planSlot(1000, now, false, { ...job, slotRetaken: true })).toMatchObject({ slot: { slotRetaken: true } });
  });
});

describe('planSend', () => {
  it('sends without a slot, or on time for it', () => {
    expect(planSend(null, now, job, false)).toEqual({ kind: 'send' });
    expect(planSend(now - SLOT_LATE_MS, now, job, false)).toEqual({ kind: 'send' });
  });

  it('gives up a slot it is too late for, once', () => {
    expect(planSend(now - SLOT_LATE_MS - 1, now, job, false)).toEqual({ kind: 'defer', delayMs: 0, slot: { slotRetaken: true }, why: 'late' });
    expect(planSend(now - 5000, now, { ...job, slotRetaken: true }, false)).toEqual({ kind: 'send' });
    expect(planSend(now - 5000, now, job, true)).toEqual({ kind: 'send' });
  });
});

describe('slotWaitMs', () => {
  it('waits for the slot, never long, never negative', () => {
    expect(slotWaitMs(null, now)).toBe(0);
    expect(slotWaitMs(now + 30, now)).toBe(30);
    expect(slotWaitMs(now + 60_000, now)).toBe(2 * INLINE_WAIT_MS);
    expect(slotWaitMs(now - 10, now)).toBe(0);
  });
});

describe('ordered delivery by key', () => {
  it('releases the line when its head is finished, not when it is retried or a resend follows', () => {
    expect(releasesLine(true, 'succeeded', false)).toBe(true);
    expect(releasesLine(true, 'dead', false)).toBe(true);
    expect(releasesLine(true, 'pending', false)).toBe(false);
    expect(releasesLine(true, 'succeeded', true)).toBe(false);
    expect(releasesLine(true, 'dead', true)).toBe(false);
    expect(releasesLine(false, 'succeeded', false)).toBe(false);
  });

  it('queues a released head for its next attempt, never before its row is due', () => {
    const head = { deliveryId: 'dlv_1', endpointId: 'ep_1', orderingKey: 'k', attemptCount: 0, nextAttemptAt: new Date(10_000) };
    expect(releasedJob(head, 10_000)).toEqual({ deliveryId: 'dlv_1', endpointId: 'ep_1', attempt: 1, delayMs: 0 });
    expect(releasedJob(head, 12_000).delayMs).toBe(0);
    expect(releasedJob({ ...head, attemptCount: 2 }, 9_000)).toEqual({ deliveryId: 'dlv_1', endpointId: 'ep_1', attempt: 3, delayMs: 1000 });
  });
});
