'use strict';
// The knee: the highest open-loop rate a system holds with p99 ≤ a bound for a whole step (20 s in a full
// run). The rate starts at KNEE_START × the closed-loop maximum and goes up 15 % a step until one fails;
// when the first step already fails it is stepped down instead. The same procedure for every part.

/**
 * `step(rate)` runs the load for one step and resolves to { latency: { p99 }, failed, achievedRate }.
 * A step holds when p99 ≤ p99Ms, nothing failed and ≥ 95 % of the rate was achieved.
 */
async function findKnee(step, { startRate, factor = 1.15, maxSteps = 8, p99Ms = 50, log = () => undefined }) {
  const steps = [];
  const holds = (r) => r.failed === 0 && r.latency.p99 !== null && r.latency.p99 <= p99Ms && r.achievedRate >= r.rate * 0.95;
  let rate = Math.max(1, Math.round(startRate));
  let knee = null;
  let direction = 0;
  for (let i = 0; i < maxSteps; i++) {
    const r = await step(rate);
    const ok = holds(r);
    steps.push({ rate, ok, p50: r.latency.p50, p99: r.latency.p99, achievedRate: r.achievedRate, failed: r.failed, extra: r.extra });
    log(`    ${Math.round(rate)}/s: p50 ${fmtMs(r.latency.p50)}, p99 ${fmtMs(r.latency.p99)}${r.failed ? `, ${r.failed} failed` : ''}${r.extra?.note ? `; ${r.extra.note}` : ''} → ${ok ? 'holds' : 'does not hold'}`);
    if (direction === 0) direction = ok ? 1 : -1;
    if (ok) {
      knee = Math.max(knee ?? 0, rate);
      if (direction < 0) break; // stepping down: the first rate that holds
      rate = Math.round(rate * factor);
    } else {
      if (direction > 0) break;
      rate = Math.max(1, Math.round(rate / (factor * factor)));
    }
  }
  const failedAbove = steps.filter((s) => !s.ok && (knee === null || s.rate > knee)).map((s) => s.rate);
  return { knee, firstFailing: failedAbove.length ? Math.min(...failedAbove) : null, p99Ms, steps };
}

/** Knees start at this fraction of the closed-loop maximum (an open-loop knee is usually 60–90 % of it). */
const KNEE_START = 0.6;

const fmtMs = (v) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`);

module.exports = { findKnee, KNEE_START };
