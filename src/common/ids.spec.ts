import { isId, newId, pooledRandom } from './ids';

describe('ids', () => {
  it('are prefixed ULIDs that sort by creation and never repeat', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('evt'));
    expect(ids.every((id) => isId(id, 'evt'))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws [0, 1) in 256 even steps across page refills', () => {
    const random = pooledRandom(64);
    const counts = new Array(32).fill(0);
    for (let i = 0; i < 64 * 500; i++) {
      const r = random();
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(1);
      expect((r * 256) % 1).toBe(0);
      counts[Math.floor(r * 32)]++;
    }
    // 1 000 expected per character; a PRNG stuck on a page or a value would leave some near 0
    expect(Math.min(...counts)).toBeGreaterThan(700);
    expect(Math.max(...counts)).toBeLessThan(1300);
  });
});
