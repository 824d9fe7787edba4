import { firstIdAt } from '../deliveries/stats-window';
import { DayRelations, sharedDay } from './day-relations';

/** An id of `kind` made at `at`. */
const idAt = (kind: string, at: string, tail = 'K'.repeat(16)) => firstIdAt(kind, new Date(at)).slice(0, -16) + tail;

describe('sharedDay', () => {
  it('answers the UTC day of ids made on one day, whatever their kind', () => {
    expect(sharedDay([idAt('dlv', '2026-11-27T00:00:00.000Z'), idAt('evt', '2026-11-27T23:59:59.999Z')])).toEqual(new Date('2026-11-27T00:00:00Z'));
  });

  it('answers nothing for ids of two days, a malformed id, or none', () => {
    expect(sharedDay([idAt('dlv', '2026-11-26T23:59:59.999Z'), idAt('dlv', '2026-11-27T00:00:00.000Z')])).toBeUndefined();
    expect(sharedDay([idAt('dlv', '2026-11-27T10:00:00Z'), 'dlv_missing'])).toBeUndefined();
    expect(sharedDay([])).toBeUndefined();
  });
});

describe('DayRelations', () => {
  const day = [idAt('dlv', '2026-11-27T10:00:00Z'), idAt('dlv', '2026-11-27T11:00:00Z')];
  const now = Date.parse('2026-11-27T12:00:00Z');

  it("names the day's partition of each table, quoted", () => {
    const relation = new DayRelations().of(day, now)!;
    expect(['deliveries', 'events', 'attempts'].map((t) => relation(t as 'deliveries'))).toEqual(['"deliveries_p20261127"', '"events_p20261127"', '"attempts_p20261127"']);
  });

  it('names nothing for ids of several days', () => {
    expect(new DayRelations().of([day[0], idAt('dlv', '2026-11-28T00:00:01Z')], now)).toBeUndefined();
  });

  it('does not name a day found missing for a minute, and names the other days meanwhile', () => {
    const days = new DayRelations();
    days.forget(day, now);
    expect(days.of(day, now + 59_000)).toBeUndefined();
    expect(days.of([idAt('dlv', '2026-11-28T10:00:00Z')], now)?.('deliveries')).toBe('"deliveries_p20261128"');
    expect(days.of(day, now + 61_000)?.('deliveries')).toBe('"deliveries_p20261127"');
  });
});
