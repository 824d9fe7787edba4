import { OTHER, TopN, topCounts } from './top-n';

describe('TopN', () => {
  it('gives free seats to the first keys and `other` to the rest', () => {
    const top = new TopN(2, 60_000);
    expect(top.label('a', 0)).toBe('a');
    expect(top.label('b', 1)).toBe('b');
    expect(top.label('c', 2)).toBe(OTHER);
    expect(top.label('a', 3)).toBe('a');
    expect(top.seats().sort()).toEqual(['a', 'b']);
  });

  it('re-seats the busiest keys of the last window and reports the evicted', () => {
    const top = new TopN(2, 1000);
    top.label('a', 0);
    top.label('b', 0);
    for (let i = 0; i < 5; i++) top.label('c', 10);
    top.label('a', 20);
    const evicted: string[] = [];
    // The window is over: c (5 hits) and a (2) keep seats, b (1) loses its own.
    expect(top.label('c', 1000, (k) => evicted.push(k))).toBe('c');
    expect(evicted).toEqual(['b']);
    expect(top.label('b', 1001)).toBe(OTHER);
    expect(top.label('a', 1002)).toBe('a');
  });

  it('frees the seats of keys gone quiet for a whole window', () => {
    const top = new TopN(1, 1000);
    top.label('a', 0);
    const evicted: string[] = [];
    expect(top.label('b', 5000, (k) => evicted.push(k))).toBe('b');
    expect(evicted).toEqual(['a']);
  });

  it('never holds more than `limit` seats', () => {
    const top = new TopN(3, 100);
    for (let t = 0; t < 2000; t++) top.label(`k${t % 17}`, t);
    expect(top.seats().length).toBeLessThanOrEqual(3);
  });
});

describe('topCounts', () => {
  it('keeps the largest and sums the rest into other', () => {
    const counts = new Map([
      ['a', 5],
      ['b', 1],
      ['c', 9],
      ['d', 1],
    ]);
    expect([...topCounts(counts, 2)]).toEqual([
      ['c', 9],
      ['a', 5],
      [OTHER, 2],
    ]);
  });

  it('has no other bucket when everything fits', () => {
    expect([...topCounts(new Map([['a', 1]]), 2)]).toEqual([['a', 1]]);
  });
});
