import { RetryPolicy } from '../config/config';
import { retryDelay } from './retry-delay';

export interface AttemptResponse {
  statusCode: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

export type Outcome =
  | { kind: 'succeeded' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'dead'; error: string; gone: boolean };

/** What an attempt's response means for its delivery. Pure: the worker only carries it out. */
export function decideOutcome(response: AttemptResponse, policy: RetryPolicy, attemptNumber: number, random: () => number): Outcome {
  const { statusCode, error } = response;
  if (error === null && statusCode !== null && statusCode >= 200 && statusCode < 300) return { kind: 'succeeded' };
  if (error === null && statusCode === 410) return { kind: 'dead', error: 'endpoint answered 410 Gone', gone: true };

  const reason = error ?? (statusCode !== null && statusCode >= 300 && statusCode < 400 ? `redirect ${statusCode} not followed` : `HTTP ${statusCode}`);
  // Retry-After counts only where HTTP gives it that meaning.
  const retryAfterMs = statusCode === 429 || statusCode === 503 ? response.retryAfterMs : null;
  const delayMs = retryDelay(policy, attemptNumber, { retryAfterMs }, random);
  if (delayMs === null) return { kind: 'dead', error: reason, gone: false };
  return { kind: 'retry', delayMs, error: reason };
}
