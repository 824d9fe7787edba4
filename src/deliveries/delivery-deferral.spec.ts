import type { JobOptions } from 'bull';
import { DeliveryJob, DeliveryQueues, deferDelivery, deliveryJobId, shardOf } from '../queues/delivery-queues';

/** A stand-in for the shard queues that records what is added, and keeps the first job of an id as Bull does. */
function fakeQueues(shards: number) {
  const added: { shard: number; data: DeliveryJob; opts: JobOptions }[] = [];
  const queues = Array.from({ length: shards }, (_, shard) => ({
    add: async (data: DeliveryJob, opts: JobOptions) => {
      if (!added.some((a) => a.opts.jobId === opts.jobId)) added.push({ shard, data, opts });
    },
  }));
  return { queues: queues as unknown as DeliveryQueues, added };
}

describe('deferDelivery', () => {
  const endpointId = 'ep_01JTESTENDPOINT0000000000';

  it('re-schedules the same attempt under a distinct id, on the endpoint shard, carrying the reserved slot', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, endpointId, { deliveryId: 'dlv_1', attempt: 3 }, 1500, { sendAt: 1_000_000 });

    expect(added).toEqual([
      {
        shard: shardOf(endpointId, 4),
        data: { deliveryId: 'dlv_1', attempt: 3, deferrals: 1, slotReserved: true, sendAt: 1_000_000 },
        opts: expect.objectContaining({ jobId: 'dlv_1:3:s1', delay: 1500 }),
      },
    ]);
    expect(added[0].opts.jobId).not.toBe(deliveryJobId('dlv_1', 3));
  });

  it('numbers further deferrals and drops a slot that was not carried over', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, endpointId, { deliveryId: 'dlv_1', attempt: 3, deferrals: 1, slotReserved: true, sendAt: 5 }, 900);
    expect(added[0].data).toEqual({ deliveryId: 'dlv_1', attempt: 3, deferrals: 2 });
    expect(added[0].opts.jobId).toBe('dlv_1:3:s2');
  });

  it('is a no-op when a duplicate job offers the same wait again', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, endpointId, { deliveryId: 'dlv_1', attempt: 1 }, 100, { sendAt: 10 });
    // The sweeper's re-offer of <deliveryId>:<attempt> defers to the same first deferral id.
    await deferDelivery(queues, endpointId, { deliveryId: 'dlv_1', attempt: 1 }, 300, { sendAt: 30 });
    expect(added).toHaveLength(1);
    expect(added[0].data.sendAt).toBe(10);
  });

  it('remembers a missed slot across deferrals, so an attempt gives up at most one', async () => {
    const { queues, added } = fakeQueues(2);
    await deferDelivery(queues, endpointId, { deliveryId: 'dlv_2', attempt: 1, deferrals: 1 }, 0, { slotMissed: true });
    await deferDelivery(queues, endpointId, added[0].data, 200, { sendAt: 99 });
    expect(added[1].data).toEqual({ deliveryId: 'dlv_2', attempt: 1, deferrals: 3, slotReserved: true, sendAt: 99, slotMissed: true });
    expect(added[0].opts.delay).toBeUndefined();
  });
});
