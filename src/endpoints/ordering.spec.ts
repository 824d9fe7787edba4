import { WAITING_IN_LINE_AT, takesPlaceInLine, waitsInLine } from './ordering';

describe('ordering rules', () => {
  it('puts a delivery in a line only for an endpoint ordering by key and an event with a key', () => {
    expect(takesPlaceInLine('key', 'customer_1')).toBe(true);
    expect(takesPlaceInLine('key', null)).toBe(false);
    expect(takesPlaceInLine('key', undefined)).toBe(false);
    expect(takesPlaceInLine('key', '')).toBe(false);
    expect(takesPlaceInLine('none', 'customer_1')).toBe(false);
  });

  it('tells the waiting-in-line mark from real times and from parked (null)', () => {
    expect(waitsInLine(new Date(WAITING_IN_LINE_AT.getTime()))).toBe(true);
    expect(waitsInLine(new Date())).toBe(false);
    expect(waitsInLine(new Date('2999-01-01T00:00:00Z'))).toBe(false);
    expect(waitsInLine(null)).toBe(false);
  });
});
