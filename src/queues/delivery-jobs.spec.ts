import type { JobOptions } from 'bull';
import { Lane } from './delivery-lanes';
import { DeliveryJob, DeliveryQueues, deferDelivery, deliveryJobId, enqueueDeliveries, readJob, shardOf } from './delivery-queues';

/** A stand-in for the shard queues that records what is added, and keeps the first job of an id in a queue as Bull does. */
function fakeQueues(shards: number, { bulkDrops = 0 } = {}) {
  const added: { shard: number; lane: Lane; data: DeliveryJob; opts: JobOptions }[] = [];
  let dropping = bulkDrops;
  const queue = (shard: number, lane: Lane) => {
    const add = async (data: DeliveryJob, opts: JobOptions) => {
      if (!added.some((a) => a.shard === shard && a.lane === lane && a.opts.jobId === opts.jobId)) added.push({ shard, lane, data, opts });
      return { id: opts.jobId };
    };
    // As Bull's addBulk does when a command of its MULTI fails (NOSCRIPT on a mended cluster node): no error, no id.
    const addBulk = async (jobs: { data: DeliveryJob; opts: JobOptions }[]) =>
      Promise.all(jobs.map(async (j) => (dropping-- > 0 ? { id: undefined } : add(j.data, j.opts))));
    return { add, addBulk };
  };
  const queues = Array.from({ length: shards }, (_, shard) => ({ live: queue(shard, 'live'), bulk: queue(shard, 'bulk') }));
  return { queues: queues as unknown as DeliveryQueues, added };
}

describe('readJob', () => {
  it('reads a version 1 job as it is, and one of a version it does not know as nothing', () => {
    const v1 = { v: 1, deliveryId: 'dlv_1', endpointId: 'ep_1', attempt: 2, slotAt: 5 };
    expect(readJob(v1)).toBe(v1);
    expect(readJob({ ...v1, v: 2 })).toBeNull();
    expect(readJob({ v: 1, deliveryId: 'dlv_1', attempt: 2 })).toBeNull();
    expect(readJob(null)).toBeNull();
  });

  it('reads a job written before payloads were versioned, its endpoint looked up', () => {
    expect(readJob({ deliveryId: 'dlv_1', attempt: 2, deferrals: 3, slotReserved: true, sendAt: 7, slotMissed: true }, 'ep_9')).toEqual({
      v: 1,
      deliveryId: 'dlv_1',
      endpointId: 'ep_9',
      attempt: 2,
      deferral: 3,
      slotAt: 7,
      slotRetaken: true,
    });
    expect(readJob({ deliveryId: 'dlv_1', attempt: 2 })).toBeNull();
  });
});

describe('deferDelivery', () => {
  const endpointId = 'ep_01JTESTENDPOINT0000000000';

  const job = (extra: Partial<DeliveryJob> = {}): DeliveryJob => ({ v: 1, deliveryId: 'dlv_1', endpointId, attempt: 3, ...extra });

  it('re-schedules the same attempt under a distinct id, on the endpoint shard, carrying the reserved slot', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, job(), 1500, { slotAt: 1_000_000 });

    expect(added).toEqual([
      {
        shard: shardOf(endpointId, 4),
        lane: 'live',
        data: { v: 1, deliveryId: 'dlv_1', endpointId, attempt: 3, deferral: 1, slotAt: 1_000_000 },
        opts: expect.objectContaining({ jobId: 'dlv_1:3:s1', delay: 1500 }),
      },
    ]);
    expect(added[0].opts.jobId).not.toBe(deliveryJobId('dlv_1', 3));
  });

  it('numbers further deferrals and drops a slot that was not carried over', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, job({ deferral: 1, slotAt: 5 }), 900);
    expect(added[0].data).toEqual({ v: 1, deliveryId: 'dlv_1', endpointId, attempt: 3, deferral: 2 });
    expect(added[0].opts.jobId).toBe('dlv_1:3:s2');
  });

  it('is a no-op when a duplicate job offers the same wait again', async () => {
    const { queues, added } = fakeQueues(4);
    await deferDelivery(queues, job({ attempt: 1 }), 100, { slotAt: 10 });
    // The sweeper's re-offer of <deliveryId>:<attempt> defers to the same first deferral id.
    await deferDelivery(queues, job({ attempt: 1 }), 300, { slotAt: 30 });
    expect(added).toHaveLength(1);
    expect(added[0].data.slotAt).toBe(10);
  });

  it('remembers a missed slot across deferrals, so an attempt gives up at most one', async () => {
    const { queues, added } = fakeQueues(2);
    await deferDelivery(queues, job({ deliveryId: 'dlv_2', attempt: 1, deferral: 1 }), 0, { slotRetaken: true });
    await deferDelivery(queues, added[0].data, 200, { slotAt: 99 });
    expect(added[1].data).toEqual({ v: 1, deliveryId: 'dlv_2', endpointId, attempt: 1, deferral: 3, slotAt: 99, slotRetaken: true });
    expect(added[0].opts.delay).toBeUndefined();
  });

describe('enqueueDeliveries', () => {
  it('adds again, one by one, the jobs a bulk add came back without', async () => {
    const { queues, added } = fakeQueues(1, { bulkDrops: 2 });
    const items = [1, 2, 3, 4].map((n) => ({ deliveryId: `dlv_${n}`, endpointId: 'ep_1', attempt: 1, lane: 'live' as const }));
    await enqueueDeliveries(queues, items);
    expect(added.map((a) => a.opts.jobId).sort()).toEqual(items.map((i) => deliveryJobId(i.deliveryId, 1)).sort());
  });

  it("puts each job in its lane of its endpoint's shard, the same job id in either lane", async () => {
    const { queues, added } = fakeQueues(4);
    const endpointId = 'ep_01JTESTENDPOINT0000000000';
    const shard = shardOf(endpointId, 4);
    await enqueueDeliveries(queues, [
      { deliveryId: 'dlv_1', endpointId, attempt: 2, lane: 'live' },
      { deliveryId: 'dlv_2', endpointId, attempt: 1, lane: 'bulk' },
    ]);
    // The sweeper's re-offer of an attempt still waiting in the live lane: a second job, in the bulk lane (the claim
    // in PostgreSQL lets one of them through); a second re-offer adds nothing.
    await enqueueDeliveries(queues, [{ deliveryId: 'dlv_1', endpointId, attempt: 2, lane: 'bulk' }]);
    await enqueueDeliveries(queues, [{ deliveryId: 'dlv_1', endpointId, attempt: 2, lane: 'bulk' }]);
    expect(added.map((a) => [a.shard, a.lane, a.opts.jobId])).toEqual([
      [shard, 'live', 'dlv_1:2'],
      [shard, 'bulk', 'dlv_2:1'],
      [shard, 'bulk', 'dlv_1:2'],
    ]);
  });
});
});
