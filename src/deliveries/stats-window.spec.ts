import { defaultStepMs, firstIdAt, seriesWindow } from './stats-window';

const now = new Date('2026-01-10T12:34:56Z');

describe('seriesWindow', () => {
  it('lays out step-aligned buckets ending after now', () => {
    const w = seriesWindow('24h', '1h', now);
    expect(w).toMatchObject({ window: '24h', step: '1h', buckets: 24, stepMs: 3_600_000 });
    expect(w.to.toISOString()).toBe('2026-01-10T13:00:00.000Z');
    expect(w.from.toISOString()).toBe('2026-01-09T13:00:00.000Z');
  });

  it('picks about 24 buckets when no step is given', () => {
    expect(seriesWindow('24h', undefined, now).step).toBe('1h');
    expect(seriesWindow('7d', undefined, now).step).toBe('7h');
    expect(seriesWindow('1h', undefined, now).step).toBe('3m');
    expect(defaultStepMs(10 * 60_000)).toBe(60_000);
  });

  it('names the bad field', () => {
    expect(() => seriesWindow('24x', '1h', now)).toThrow(/window/);
    expect(() => seriesWindow('24h', 'soon', now)).toThrow(/step/);
    expect(() => seriesWindow('31d', '1d', now)).toThrow(/window must be at most 30d/);
    expect(() => seriesWindow('1h', '2h', now)).toThrow(/step must not be longer/);
    expect(() => seriesWindow('30d', '1m', now)).toThrow(/at most 500 buckets/);
    expect(() => seriesWindow('0h', '1m', now)).toThrow(/window/);
  });
});

describe('firstIdAt', () => {
  it('encodes the time as a ULID prefix', () => {
    expect(firstIdAt('dlv', new Date(0))).toBe('dlv_00000000000000000000000000');
    // 1469918176385 is the ULID spec's example time: 01ARYZ6S41.
    expect(firstIdAt('dlv', new Date(1469918176385))).toBe('dlv_01ARYZ6S410000000000000000');
  });
});
