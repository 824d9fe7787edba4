import { AttemptBudget } from './attempt-budget';

/** Acquires without awaiting; `granted` lists endpoint ids in the order their places came. */
function harness(capacity: number) {
  const budget = new AttemptBudget(capacity);
  const granted: string[] = [];
  const want = (id: string, n = 1) => {
    for (let i = 0; i < n; i++) void budget.acquire(id).then(() => granted.push(id));
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { budget, granted, want, settle };
}

describe('AttemptBudget', () => {
  it('gives a lone endpoint the whole budget, and no more', async () => {
    const { budget, granted, want, settle } = harness(10);
    want('hot', 15);
    await settle();
    expect(granted).toHaveLength(10);
    expect(budget.inFlight).toBe(10);
    expect(budget.waiting).toBe(5);
    budget.release('hot');
    await settle();
    expect(granted).toHaveLength(11);
  });

  it('gives a newcomer the places a hot endpoint frees until both hold their fair share', async () => {
    const { budget, granted, want, settle } = harness(10);
    want('hot', 30);
    await settle();
    want('calm', 8);
    await settle();
    // Each release goes to "calm" while it is below its share (10 / 2 = 5); then to whichever is below it.
    for (let i = 0; i < 8; i++) budget.release('hot');
    await settle();
    const after = granted.slice(10);
    expect(after).toEqual(['calm', 'calm', 'calm', 'calm', 'calm', 'hot', 'hot', 'hot']);
    expect(after.filter((id) => id === 'calm')).toHaveLength(5);
    expect(budget.fairShare()).toBe(5);
  });

  it('serves waiting endpoints round robin when all are above their share', async () => {
    const { budget, granted, want, settle } = harness(3);
    want('a', 3);
    await settle();
    want('b', 2);
    want('c', 2);
    await settle();
    for (let i = 0; i < 3; i++) budget.release('a');
    await settle();
    expect(granted.slice(3)).toEqual(['b', 'c', 'b']);
  });

  it('never holds more than its capacity, whatever the order of acquires and releases', async () => {
    const { budget, want, settle } = harness(7);
    const ids = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 50; round++) {
      want(ids[round % 4], 1 + (round % 3));
      await settle();
      expect(budget.inFlight).toBeLessThanOrEqual(7);
      if (budget.inFlight > 0 && round % 2) {
        // release someone who holds a place
        const holder = ids.find((id) => (budget as unknown as { endpoints: Map<string, { held: number }> }).endpoints.get(id)?.held);
        if (holder) budget.release(holder);
      }
    }
  });

  it('refuses a release without an acquire', () => {
    expect(() => new AttemptBudget(1).release('x')).toThrow();
    expect(() => new AttemptBudget(0)).toThrow(RangeError);
  });

  it('tryAcquire takes a place only when one is free and nobody waits, and changes nothing otherwise', async () => {
    const { budget, want, settle } = harness(2);
    expect(budget.tryAcquire('a')).toBe(true);
    expect(budget.tryAcquire('b')).toBe(true);
    expect(budget.tryAcquire('a')).toBe(false);
    expect(budget.inFlight).toBe(2);
    want('c', 1);
    await settle();
    budget.release('a');
    await settle();
    // The place went to the waiting endpoint; with nobody waiting, the next one is free to take.
    expect(budget.tryAcquire('a')).toBe(false);
    budget.release('b');
    expect(budget.tryAcquire('a')).toBe(true);
    expect(budget.inFlight).toBe(2);
  });
});
