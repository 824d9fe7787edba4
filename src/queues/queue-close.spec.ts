import type { Queue } from 'bull';
import { closeQueue } from './queue-close';

function fakeQueue(close: () => Promise<void>) {
  const clients = [{ disconnect: jest.fn() }, { disconnect: jest.fn() }];
  const queue = { name: 'q', close: jest.fn(close), clients } as unknown as Queue;
  return { queue, clients };
}

describe('closeQueue', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('leaves the connections to Bull when its close finishes in time', async () => {
    const { queue, clients } = fakeQueue(() => Promise.resolve());
    await closeQueue(queue, 1000);
    expect(queue.close).toHaveBeenCalledWith(true);
    expect(clients.every((c) => c.disconnect.mock.calls.length === 0)).toBe(true);
  });

  it('drops the connections itself once a close that never ends has had its time', async () => {
    const { queue, clients } = fakeQueue(() => new Promise<void>(() => undefined));
    let resolved = false;
    const closing = closeQueue(queue, 1000).then(() => (resolved = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(resolved).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await closing;
    expect(clients.every((c) => c.disconnect.mock.calls.length === 1)).toBe(true);
  });

  it('is one close for every caller', async () => {
    const { queue } = fakeQueue(() => Promise.resolve());
    await Promise.all([closeQueue(queue), closeQueue(queue)]);
    await closeQueue(queue);
    expect(queue.close).toHaveBeenCalledTimes(1);
  });

  it('counts a close that fails as done', async () => {
    const { queue, clients } = fakeQueue(() => Promise.reject(new Error('Connection is closed.')));
    await closeQueue(queue, 1000);
    expect(clients.every((c) => c.disconnect.mock.calls.length === 0)).toBe(true);
  });
});
