import { EndpointRateLimiter } from './rate-limiter';
import { SlotReservations } from './slot-reservations';

/** A stand-in limiter that hands out consecutive 100 ms slots and counts its calls. */
function fakeLimiter() {
  const calls: [string, number, number][] = [];
  let next = 0;
  const limiter = {
    reserveEndpointSlots: async (endpointId: string, limit: number, n: number) => {
      calls.push([endpointId, limit, n]);
      return Array.from({ length: n }, () => (next++) * 100);
    },
  } as unknown as EndpointRateLimiter;
  return { limiter, calls };
}

describe('SlotReservations', () => {
  it('serves reservations asked for in one tick with one call per endpoint, each caller its own slot', async () => {
    const { limiter, calls } = fakeLimiter();
    const slots = new SlotReservations(limiter);
    const delays = await Promise.all([slots.reserve('ep_a', 10), slots.reserve('ep_a', 10), slots.reserve('ep_b', 10), slots.reserve('ep_a', 10)]);
    expect(calls).toEqual([
      ['ep_a', 10, 3],
      ['ep_b', 10, 1],
    ]);
    expect(new Set([delays[0], delays[1], delays[3]]).size).toBe(3);
  });

  it('starts a new batch in the next tick and when the limit changes', async () => {
    const { limiter, calls } = fakeLimiter();
    const slots = new SlotReservations(limiter);
    await slots.reserve('ep_a', 10);
    await Promise.all([slots.reserve('ep_a', 10), slots.reserve('ep_a', 20)]);
    expect(calls).toEqual([
      ['ep_a', 10, 1],
      ['ep_a', 10, 1],
      ['ep_a', 20, 1],
    ]);
  });

  it('fails every caller of a batch whose call failed', async () => {
    const limiter = { reserveEndpointSlots: async () => Promise.reject(new Error('redis gone')) } as unknown as EndpointRateLimiter;
    const slots = new SlotReservations(limiter);
    const results = await Promise.allSettled([slots.reserve('ep_a', 10), slots.reserve('ep_a', 10)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
