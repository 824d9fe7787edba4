/**
 * GCRA (generic cell rate algorithm) used as a reservation: instead of "allowed / denied", every
 * caller is handed the next free send slot and the theoretical arrival time (TAT) moves past it,
 * so N concurrent callers get N distinct slots and each waits exactly once.
 *
 * The Lua script in rate-limiter.ts is a transliteration of `reserve`; this copy exists so the
 * arithmetic and its window bound are unit-tested without Redis.
 */
export interface GcraParams {
  /** T: spacing of consecutive slots at the sustained rate. */
  emissionMs: number;
  /** τ: how far ahead of its TAT a slot may be granted; (burst − 1) · T. */
  toleranceMs: number;
}

/**
 * Two slots k reservations apart are at least k·T − τ apart, so a 1-second window holds at most
 * rate + burst − 1 slots. A burst of 1 is the only one that keeps "at most rateLimitPerSecond per
 * second" exactly; the one extra send the design tolerates is left to scheduler jitter (a delayed
 * job firing late can bring two neighbouring sends closer than T), not spent on a burst.
 */
export const DEFAULT_BURST = 1;

/**
 * Slots are spaced for this fraction of an endpoint's configured rate. Exact spacing leaves only the
 * +1 for jitter, and a delayed job or a receiver stalling ~100 ms under load would already crowd a
 * second; at 90 % a second holds one slot fewer, so sends tolerate about twice that.
 */
export const RATE_HEADROOM = 0.9;

/** The rate slots are reserved at for an endpoint limited to `limitPerSecond`. */
export function slotRate(limitPerSecond: number): number {
  return limitPerSecond * RATE_HEADROOM;
}

export function gcraParams(ratePerSecond: number, burst = DEFAULT_BURST): GcraParams {
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
  }
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError(`burst must be a positive integer, got ${burst}`);
  }
  const emissionMs = 1000 / ratePerSecond;
  return { emissionMs, toleranceMs: (burst - 1) * emissionMs };
}

export interface Reservation {
  /** The reserved slot, on the same clock as `nowMs`. */
  slotMs: number;
  /** Whole milliseconds to wait, rounded up so a send is never early. */
  delayMs: number;
  /** The TAT to store for the next caller. */
  tatMs: number;
}

/** `tatMs` is the stored TAT, or null when the endpoint has been idle long enough to forget. */
export function reserve(tatMs: number | null, nowMs: number, { emissionMs, toleranceMs }: GcraParams): Reservation {
  // A TAT in the past is clamped to now: idle time earns no credit beyond τ.
  const tat = Math.max(tatMs ?? 0, nowMs);
  const slotMs = Math.max(nowMs, tat - toleranceMs);
  return { slotMs, delayMs: Math.ceil(slotMs - nowMs), tatMs: tat + emissionMs };
}

export interface Admission {
  /** True when all `cells` fit in the allowance now. */
  admitted: boolean;
  /** When refused: ms until the same request would fit (Infinity if it never can). */
  retryInMs: number;
  /** The TAT to store: moved on only when admitted. */
  tatMs: number;
}

/**
 * GCRA as admission control (the publish side): `cells` requests are admitted together or not at
 * all. `capacityMs` is the allowance expressed as time (burst × T); a request larger than it can
 * never be admitted. The Lua script in publish-admission.ts mirrors this.
 */
export function admit(tatMs: number | null, nowMs: number, cells: number, emissionMs: number, capacityMs: number): Admission {
  const tat = Math.max(tatMs ?? 0, nowMs);
  if (cells * emissionMs > capacityMs + 1e-9) return { admitted: false, retryInMs: Infinity, tatMs: tat };
  const next = tat + cells * emissionMs;
  const over = next - nowMs - capacityMs;
  if (over > 1e-9) return { admitted: false, retryInMs: Math.ceil(over), tatMs: tat };
  return { admitted: true, retryInMs: 0, tatMs: next };
}
