import { groupBy } from './group-by';

describe('groupBy', () => {
  it('keeps the keys in the order first seen and each group in the items order', () => {
    const groups = groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]);
    expect([...groups]).toEqual([
      ['b', ['b1', 'b2']],
      ['a', ['a1', 'a2']],
      ['c', ['c1']],
    ]);
  });

  it('groups any iterable, objects as keys by identity', () => {
    const x = {};
    const y = {};
    const groups = groupBy([0, 1, 2, 3].values(), (i) => (i % 2 ? x : y));
    expect(groups.get(x)).toEqual([1, 3]);
    expect(groups.get(y)).toEqual([0, 2]);
    expect(groupBy([], () => 1).size).toBe(0);
  });
});
