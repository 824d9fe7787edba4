import { TickBatch } from './tick-batch';

describe('TickBatch', () => {
  it('serves calls of one tick with one run, answering each in order', async () => {
    const runs: number[][] = [];
    const batch = new TickBatch(async (inputs: number[]) => {
      runs.push(inputs);
      return inputs.map((n) => n * 2);
    });
    expect(await Promise.all([1, 2, 3].map((n) => batch.submit(n)))).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('runs one batch at a time; calls made meanwhile share the next, at most `max` a batch', async () => {
    const runs: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = new TickBatch(async (inputs: number[]) => {
      runs.push(inputs);
      if (runs.length === 1) await gate;
      return inputs;
    }, 2);
    const first = batch.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => batch.submit(n));
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(runs).toEqual([[1], [2, 3], [4]]);
  });

  it('fails every call of a failed batch, and goes on with the next', async () => {
    let fail = true;
    const batch = new TickBatch(async (inputs: number[]) => {
      if (fail) throw new Error('down');
      return inputs;
    });
    await expect(Promise.all([batch.submit(1), batch.submit(2)])).rejects.toThrow('down');
    fail = false;
    expect(await batch.submit(3)).toBe(3);
  });
});
