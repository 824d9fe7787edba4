import { CircuitState, MAX_COOLDOWN_MS, PROBE_RECHECK_MS, afterFailure, circuitGate, circuitView, probing, shouldDisable } from './circuit-breaker';

const settings = { threshold: 3, cooldownMs: 1000 };
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const closed: CircuitState = { consecutiveFailures: 0, phase: null, until: null, cooldownMs: null };

/** Runs `n` non-probe failures from `state` at time `now`. */
function fail(state: CircuitState, n: number, now = t0, wasProbe = false): CircuitState {
  let s = state;
  for (let i = 0; i < n; i++) s = afterFailure(s, s.consecutiveFailures + 1, now, settings, wasProbe);
  return s;
}

describe('circuit breaker', () => {
  it('stays closed below the threshold and lets attempts send', () => {
    const s = fail(closed, 2);
    expect(s).toEqual({ consecutiveFailures: 2, phase: null, until: null, cooldownMs: null });
    expect(circuitGate(s, t0, settings)).toEqual({ kind: 'send' });
    expect(circuitView(s, t0, settings)).toEqual({ state: 'closed', until: null });
  });

  it('opens at the threshold for the cool-down; attempts wait until its end', () => {
    const s = fail(closed, 3);
    expect(s).toMatchObject({ phase: 'open', until: at(1000), cooldownMs: 1000 });
    expect(circuitGate(s, at(10), settings)).toEqual({ kind: 'wait', until: at(1000) });
    expect(circuitView(s, at(10), settings)).toEqual({ state: 'open', until: at(1000) });
  });

  it('ignores failures of attempts already in flight when it opened', () => {
    const open = fail(closed, 3);
    const s = fail(open, 5, at(200));
    expect(s).toMatchObject({ consecutiveFailures: 8, phase: 'open', until: at(1000), cooldownMs: 1000 });
  });

  it('lets one probe out after the cool-down; others wait for it briefly', () => {
    const open = fail(closed, 3);
    expect(circuitGate(open, at(1000), settings)).toEqual({ kind: 'probe' });
    expect(circuitView(open, at(1000), settings)).toEqual({ state: 'half-open', until: null });
    const out = probing(open, at(1000), 30_000);
    expect(circuitGate(out, at(1001), settings)).toEqual({ kind: 'wait', until: at(1001 + PROBE_RECHECK_MS) });
    expect(circuitView(out, at(1001), settings)).toEqual({ state: 'half-open', until: at(31_000) });
    // A probe whose worker died frees itself when its lease ends.
    expect(circuitGate(out, at(31_000), settings)).toEqual({ kind: 'probe' });
  });

  it('doubles the cool-down on each failed probe, up to an hour', () => {
    let s = fail(closed, 3);
    const cooldowns: number[] = [];
    for (let i = 0; i < 14; i++) {
      s = probing(s, at(0), 5000);
      s = afterFailure(s, s.consecutiveFailures + 1, t0, settings, true);
      cooldowns.push(s.cooldownMs!);
      expect(s.phase).toBe('open');
      expect(s.until).toEqual(at(s.cooldownMs!));
    }
    expect(cooldowns.slice(0, 4)).toEqual([2000, 4000, 8000, 16_000]);
    expect(Math.max(...cooldowns)).toBe(MAX_COOLDOWN_MS);
  });

  it('treats columns left from before a reset as closed', () => {
    const stale: CircuitState = { consecutiveFailures: 0, phase: 'open', until: at(5000), cooldownMs: 4000 };
    expect(circuitGate(stale, t0, settings)).toEqual({ kind: 'send' });
    expect(circuitView(stale, t0, settings).state).toBe('closed');
    // and it opens afresh, with the base cool-down, when the threshold is reached again
    expect(fail(stale, 3, at(100))).toMatchObject({ phase: 'open', until: at(1100), cooldownMs: 1000 });
  });

  it('disables an endpoint failing for the configured period', () => {
    expect(shouldDisable(null, t0, 1000)).toBe(false);
    expect(shouldDisable(t0, at(999), 1000)).toBe(false);
    expect(shouldDisable(t0, at(1000), 1000)).toBe(true);
  });
});
