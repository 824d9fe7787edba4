import { EnqueueReason, laneOf } from './delivery-lanes';

const items = (endpointId: string, n: number) => Array.from({ length: n }, () => ({ endpointId }));

describe('laneOf', () => {
  it('puts single publishes, retries, resends, releases and test sends in the live lane', () => {
    for (const reason of ['publish', 'retry', 'resend', 'release', 'example'] as EnqueueReason[]) {
      expect(laneOf(items('ep_1', 1), reason, 50)).toEqual(['live']);
    }
  });

  it('puts replays, re-offers and hand-backs in the bulk lane, however few', () => {
    for (const reason of ['replay', 'sweep', 'hand back'] as EnqueueReason[]) {
      expect(laneOf(items('ep_1', 1), reason, 50)).toEqual(['bulk']);
      expect(laneOf([...items('ep_1', 2), ...items('ep_2', 1)], reason, 50)).toEqual(['bulk', 'bulk', 'bulk']);
    }
  });

  it('puts a burst for one endpoint in the bulk lane, counted per endpoint, and leaves the others of the call live', () => {
    const call = [...items('ep_hot', 30), ...items('ep_calm', 2), ...items('ep_hot', 21), ...items('ep_edge', 50)];
    const lanes = laneOf(call, 'publish', 50);
    expect(lanes.slice(0, 30)).toEqual(Array(30).fill('bulk'));
    expect(lanes.slice(30, 32)).toEqual(['live', 'live']);
    expect(lanes.slice(32, 53)).toEqual(Array(21).fill('bulk'));
    // Exactly the threshold is not a burst.
    expect(lanes.slice(53)).toEqual(Array(50).fill('live'));
  });

  it('applies the same burst rule to resends (a bulk resend of one endpoint)', () => {
    expect(laneOf(items('ep_1', 3), 'resend', 2)).toEqual(['bulk', 'bulk', 'bulk']);
    expect(laneOf(items('ep_1', 2), 'resend', 2)).toEqual(['live', 'live']);
  });

  it('answers nothing for nothing', () => {
    expect(laneOf([], 'publish', 50)).toEqual([]);
  });
});
