import { RetryPolicy } from '../config/config';

export const JITTER = 0.2;
/** A receiver's Retry-After is honoured up to this; beyond it is more likely a bug than a plan. */
export const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

export interface FailureHint {
  /** From a 429 or 503 response's Retry-After header. */
  retryAfterMs?: number | null;
}

/**
 * How long to wait before the attempt after `attemptsMade`, or null when the policy is exhausted.
 * Delays grow by `multiplier` from `initialDelayMs` up to `maxDelayMs`, each with ±20 % jitter;
 * a Retry-After makes the wait at least that long. `random` returns [0, 1).
 */
export function retryDelay(policy: RetryPolicy, attemptsMade: number, hint: FailureHint, random: () => number): number | null {
  if (attemptsMade >= policy.maxAttempts) return null;
  const base = Math.min(policy.initialDelayMs * Math.pow(policy.multiplier, attemptsMade - 1), policy.maxDelayMs);
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  const floor = hint.retryAfterMs ? Math.min(hint.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
  return Math.max(jittered, floor);
}
