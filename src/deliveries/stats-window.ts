import { InvalidInputError } from '../common/errors';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_PATTERN = /^([1-9]\d{0,3})(m|h|d)$/;
/** The most buckets one answer holds, so a query's cost stays bounded. */
export const MAX_BUCKETS = 500;
export const MAX_WINDOW_MS = 30 * UNIT_MS.d;

export interface SeriesWindow {
  window: string;
  step: string;
  stepMs: number;
  /** Start of the first bucket (aligned to the step). */
  from: Date;
  /** End of the last bucket: the step boundary at or after now. */
  to: Date;
  buckets: number;
}

function durationMs(field: string, value: string): number {
  const m = DURATION_PATTERN.exec(value);
  if (!m) throw InvalidInputError.field(field, `${field} must be a duration like 30m, 1h or 7d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

function formatDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  return `${ms / UNIT_MS.m}m`;
}

/** A step giving about 24 buckets, in whole minutes, hours or days. */
export function defaultStepMs(windowMs: number): number {
  const raw = windowMs / 24;
  for (const unit of [UNIT_MS.d, UNIT_MS.h, UNIT_MS.m]) if (raw >= unit && raw % unit === 0) return raw;
  return Math.max(UNIT_MS.m, Math.ceil(raw / UNIT_MS.m) * UNIT_MS.m);
}

/**
 * Validates `window` and `step` (e.g. 24h and 1h) and lays out the buckets: aligned to the step, the last
 * one holding now. Pure: `now` is given. Refuses windows over 30 days and more than MAX_BUCKETS buckets.
 */
export function seriesWindow(window: string, step: string | undefined, now: Date): SeriesWindow {
  const windowMs = durationMs('window', window);
  if (windowMs > MAX_WINDOW_MS) throw InvalidInputError.field('window', 'window must be at most 30d');
  const stepMs = step === undefined || step === '' ? defaultStepMs(windowMs) : durationMs('step', step);
  if (stepMs > windowMs) throw InvalidInputError.field('step', 'step must not be longer than window');
  const buckets = Math.ceil(windowMs / stepMs);
  if (buckets > MAX_BUCKETS) throw InvalidInputError.field('step', `window / step must be at most ${MAX_BUCKETS} buckets; use a longer step`);
  const to = Math.ceil((now.getTime() + 1) / stepMs) * stepMs;
  return { window, step: step || formatDuration(stepMs), stepMs, from: new Date(to - buckets * stepMs), to: new Date(to), buckets };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The smallest id of this kind made at or after `at` (ids are ULIDs: their first 10 characters are the time). */
export function firstIdAt(kind: string, at: Date): string {
  let ms = at.getTime();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  return `${kind}_${time}${'0'.repeat(16)}`;
}
