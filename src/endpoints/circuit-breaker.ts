/**
 * Per-endpoint circuit breaker, as pure decisions over the endpoint's health columns. The worker
 * only carries them out (and claims the probe atomically in PostgreSQL).
 *
 *   closed ──threshold consecutive failures──▶ open (cool-down) ──until passes──▶ half-open
 *   half-open: one attempt probes; success closes, failure re-opens with double the cool-down (≤ 1 h).
 */
export const MAX_COOLDOWN_MS = 3600 * 1000;
/** While a probe is out, waiting deliveries look again this soon, so that a success lets them flow quickly. */
export const PROBE_RECHECK_MS = 2000;

export type CircuitPhase = 'open' | 'probing';

export interface CircuitState {
  consecutiveFailures: number;
  /** null: closed. */
  phase: CircuitPhase | null;
  /** End of the cool-down (open) or of the probe's lease (probing). */
  until: Date | null;
  /** The current cool-down; doubled after a failed probe. */
  cooldownMs: number | null;
}

export interface CircuitSettings {
  threshold: number;
  cooldownMs: number;
}

export type CircuitView = { state: 'closed'; until: null } | { state: 'open' | 'half-open'; until: Date | null };

/** What an attempt may do now: send, probe (claim it first), or wait until `until`. */
export type Gate = { kind: 'send' } | { kind: 'probe' } | { kind: 'wait'; until: Date };

/** Columns left over from before a reset (a success or a re-enable zeroes the failures) count for nothing. */
function isEngaged(s: CircuitState, settings: CircuitSettings): boolean {
  return s.phase !== null && s.until !== null && s.consecutiveFailures >= settings.threshold;
}

export function circuitGate(s: CircuitState, now: Date, settings: CircuitSettings): Gate {
  if (!isEngaged(s, settings)) return { kind: 'send' };
  if (s.until!.getTime() > now.getTime()) {
    if (s.phase === 'probing') return { kind: 'wait', until: new Date(Math.min(s.until!.getTime(), now.getTime() + PROBE_RECHECK_MS)) };
    return { kind: 'wait', until: s.until! };
  }
  // The cool-down is over, or a probe's lease ran out (its worker died): the next attempt probes.
  return { kind: 'probe' };
}

/** The columns a probe sets while it is out; the lease must outlast the request. */
export function probing(s: CircuitState, now: Date, leaseMs: number): CircuitState {
  return { ...s, phase: 'probing', until: new Date(now.getTime() + leaseMs) };
}

/**
 * The state after a failed attempt; `failures` already counts it. A probe's failure doubles the
 * cool-down; failures of attempts that were in flight when the circuit opened change nothing.
 */
export function afterFailure(s: CircuitState, failures: number, now: Date, settings: CircuitSettings, wasProbe: boolean): CircuitState {
  const engaged = isEngaged({ ...s, consecutiveFailures: failures }, settings);
  if (!engaged) {
    if (failures < settings.threshold) return { consecutiveFailures: failures, phase: null, until: null, cooldownMs: null };
    return { consecutiveFailures: failures, phase: 'open', until: new Date(now.getTime() + settings.cooldownMs), cooldownMs: settings.cooldownMs };
  }
  if (!wasProbe) return { ...s, consecutiveFailures: failures };
  const cooldownMs = Math.min(Math.max(2 * (s.cooldownMs ?? settings.cooldownMs), settings.cooldownMs), Math.max(MAX_COOLDOWN_MS, settings.cooldownMs));
  return { consecutiveFailures: failures, phase: 'open', until: new Date(now.getTime() + cooldownMs), cooldownMs };
}

/** For the stats route. */
export function circuitView(s: CircuitState, now: Date, settings: CircuitSettings): CircuitView {
  if (!isEngaged(s, settings)) return { state: 'closed', until: null };
  if (s.phase === 'open' && s.until!.getTime() > now.getTime()) return { state: 'open', until: s.until };
  return { state: 'half-open', until: s.phase === 'probing' ? s.until : null };
}

/** Auto-disable: failing without a success since `failingSince` for at least `disableAfterMs`. */
export function shouldDisable(failingSince: Date | null, now: Date, disableAfterMs: number): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= disableAfterMs;
}
