import fc from 'fast-check';
import { admit, gcraParams, reserve, slotRate } from './gcra';

/** The most of `times` that fall in any half-open window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    // 1e-6 absorbs float error in sums of T (e.g. 3 × 333.33… landing just under 1000).
    while (sorted[j] - sorted[i] >= windowMs - 1e-6) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Feeds arrivals through `reserve` as the script would, one at a time. */
function simulate(arrivals: number[], ratePerSecond: number, burst?: number) {
  const params = gcraParams(ratePerSecond, burst);
  let tat: number | null = null;
  return arrivals.map((now) => {
    const r = reserve(tat, now, params);
    tat = r.tatMs;
    return { now, ...r };
  });
}

describe('gcraParams', () => {
  it('spaces slots by 1000 / rate with no burst by default', () => {
    expect(gcraParams(10)).toEqual({ emissionMs: 100, toleranceMs: 0 });
    expect(gcraParams(4, 3)).toEqual({ emissionMs: 250, toleranceMs: 500 });
  });

  it.each([0, -1, NaN, Infinity])('rejects a rate of %p', (rate) => {
    expect(() => gcraParams(rate)).toThrow(RangeError);
  });

  it('rejects a burst below one', () => {
    expect(() => gcraParams(10, 0)).toThrow(RangeError);
  });
});

describe('reserve', () => {
  it('gives concurrent callers distinct slots, one emission interval apart', () => {
    expect(simulate([0, 0, 0, 0], 10).map((r) => r.delayMs)).toEqual([0, 100, 200, 300]);
  });

  it('lets a burst go at once, then spaces the rest', () => {
    expect(simulate([0, 0, 0, 0, 0], 10, 3).map((r) => r.delayMs)).toEqual([0, 0, 0, 100, 200]);
  });

  it('counts an earlier reservation against a later caller', () => {
    expect(simulate([0, 0, 150], 10).map((r) => r.delayMs)).toEqual([0, 100, 50]);
  });

  it('gives no credit for idle time', () => {
    expect(simulate([0, 5000, 5000], 10).map((r) => r.delayMs)).toEqual([0, 0, 100]);
  });

  it('rounds a fractional wait up, never sending early', () => {
    const [, second] = simulate([0, 0], 3);
    expect(second.slotMs).toBeCloseTo(333.333, 3);
    expect(second.delayMs).toBe(334);
  });

  it('never puts more than rate + burst − 1 slots in any second, nor sends early', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 50 }), fc.double({ min: 0.2, max: 50, noNaN: true })),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (rate, burst, times) => {
          const arrivals = [...times].sort((a, b) => a - b);
          const slots = simulate(arrivals, rate, burst);
          for (const s of slots) expect(s.slotMs).toBeGreaterThanOrEqual(s.now);
          const bound = Math.ceil(rate) + burst - 1;
          expect(maxInWindow(slots.map((s) => s.slotMs), 1000)).toBeLessThanOrEqual(bound);
          // Rounding each wait up to a whole ms can shift neighbours by < 1 ms: the +1 slack.
          expect(maxInWindow(slots.map((s) => s.now + s.delayMs), 1000)).toBeLessThanOrEqual(bound + 1);
        },
      ),
    );
  });
});

describe('admit', () => {
  const T = 50; // 20 per second
  const capacity = 1000; // a burst of one second's worth

  it('admits a second of burst, then refuses with the wait until the next cell fits', () => {
    let tat: number | null = null;
    const results = Array.from({ length: 21 }, () => {
      const r = admit(tat, 0, 1, T, capacity);
      tat = r.tatMs;
      return r;
    });
    expect(results.slice(0, 20).every((r) => r.admitted)).toBe(true);
    expect(results[20]).toEqual({ admitted: false, retryInMs: 50, tatMs: 1000 });
    expect(admit(tat, 50, 1, T, capacity).admitted).toBe(true);
  });

  it('admits a batch whole or not at all', () => {
    const first = admit(null, 0, 15, T, capacity);
    expect(first.admitted).toBe(true);
    const refused = admit(first.tatMs, 0, 10, T, capacity);
    expect(refused).toEqual({ admitted: false, retryInMs: 250, tatMs: 750 });
    expect(admit(first.tatMs, 0, 5, T, capacity).admitted).toBe(true);
  });

  it('never admits a batch larger than the allowance', () => {
    expect(admit(null, 0, 21, T, capacity)).toMatchObject({ admitted: false, retryInMs: Infinity });
  });

  it('never admits more than the allowance plus the rate over any span', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 5000, noNaN: true }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 200 }),
        (rate, requests) => {
          const emission = 1000 / rate;
          let tat: number | null = null;
          const admitted: number[] = [];
          for (const [now, cells] of [...requests].sort((a, b) => a[0] - b[0])) {
            const r = admit(tat, now, cells, emission, 1000);
            tat = r.tatMs;
            if (r.admitted) for (let i = 0; i < cells; i++) admitted.push(now);
          }
          // In any window of length w, at most rate (the burst) + rate · w / 1000 cells get in.
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              expect(j - i + 1).toBeLessThanOrEqual(rate + (rate * (admitted[j] - admitted[i])) / 1000 + 1e-6);
            }
          }
        },
      ),
    );
  });
});

describe('slotRate', () => {
  it('keeps headroom below the configured limit, so jitter does not crowd a second', () => {
    expect(slotRate(10)).toBeCloseTo(9);
    expect(gcraParams(slotRate(10)).emissionMs).toBeCloseTo(111.11, 2);
  });
});
