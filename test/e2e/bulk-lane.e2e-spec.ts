import Queue from 'bull';
import { deliveryJobId, deliveryQueueName } from '../../src/queues/delivery-queues';
import { createEndpoint, createTenant, publish, publishBatches } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

const PLACES = 4;
const BURST = 3000;
const BATCH = 500;
const SLOW_MS = 2000;

/**
 * A burst for one endpoint goes to its shard's bulk lane, so a neighbour's live delivery is not fetched behind it
 * (issue 11 §3). One shard, a budget of four places and no held jobs (HERALD_WORKER_HOLD_MAX=0): with one queue per
 * shard, the neighbour's job would wait in Redis behind the whole burst, fetched one job per free place, 3 000 × 2 s
 * ÷ 4 = 25 minutes at that pace; in its live lane it is fetched at once and takes the next free place.
 */
describe('the bulk lane', () => {
  describe('a burst beside a neighbour on the same shard', () => {
    let herald: Herald;
    let hot: TestReceiver;
    let neighbour: TestReceiver;

    beforeAll(async () => {
      herald = await startHerald({ HERALD_SHARDS: '1', HERALD_WORKER_CONCURRENCY: String(PLACES), HERALD_WORKER_HOLD_MAX: '0' });
      hot = await TestReceiver.start();
      neighbour = await TestReceiver.start();
    });
    afterAll(async () => {
      await herald?.close();
      await hot?.close();
      await neighbour?.close();
    });

    it("delivers the neighbour's single event while most of the burst is still to be sent, and every event once", async () => {
      const tenant = await createTenant(herald.api);
      await createEndpoint(herald.api, tenant.id, { url: `${hot.url}/hot`, eventTypes: ['burst.event'], timeoutMs: 30_000 });
      await createEndpoint(herald.api, tenant.id, { url: `${neighbour.url}/calm`, eventTypes: ['calm.event'] });
      hot.always({ status: 200, delayMs: SLOW_MS });

      const published = await publishBatches(herald.api, tenant.id, 'burst.event', BURST, BATCH);
      await waitFor('the budget full of slow attempts', () => hot.inFlight === PLACES, 30_000);

      const calm = await publish(herald.api, tenant.id, 'calm.event', { hello: 'neighbour' });
      await waitFor("the neighbour's delivery", () => neighbour.received.length === 1, 60_000);
      expect(neighbour.received[0].headers['webhook-id']).toBe(calm.id);
      // It did not wait for the burst: most of it has not even been sent.
      expect(BURST - hot.received.length).toBeGreaterThanOrEqual(BURST / 2);

      hot.always({ status: 200 });
      await waitFor('the whole burst', () => hot.received.length >= BURST, 120_000);
      await waitFor('every delivery succeeded', async () => {
        const [{ n }] = await herald.sql<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant.id]);
        return Number(n) === BURST + 1;
      });
      const ids = hot.received.map((r) => r.headers['webhook-id'] as string);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(published));
      const [{ n: attempts }] = await herald.sql<{ n: string }>(`SELECT count(*) AS n FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1`, [tenant.id]);
      expect(Number(attempts)).toBe(BURST + 1);
    });
  });

  /**
   * One attempt may have a job in each lane: the sweeper re-offers (to the bulk lane) a delivery whose live job still
   * waits. Both jobs run; the claim in PostgreSQL lets exactly one of them make the attempt.
   */
  describe('one attempt queued in both lanes', () => {
    let api: Herald;
    let worker: Herald | undefined;
    let receiver: TestReceiver;
    let lanes: Queue.Queue[];

    beforeAll(async () => {
      api = await startHerald({ HERALD_SHARDS: '1', HERALD_ROLE: 'api' });
      receiver = await TestReceiver.start();
      lanes = (['live', 'bulk'] as const).map((lane) => new Queue(deliveryQueueName(0, lane), api.env.REDIS_URL, { prefix: api.config.queuePrefix }));
    });
    afterAll(async () => {
      await Promise.all(lanes?.map((q) => q.close()) ?? []);
      await worker?.close();
      await api?.close();
      await receiver?.close();
    });

    it('is sent once, and both jobs are consumed', async () => {
      const tenant = await createTenant(api.api);
      const endpoint = await createEndpoint(api.api, tenant.id, { url: `${receiver.url}/twice`, eventTypes: ['dup.event'] });
      receiver.always({ status: 200, delayMs: 300 });
      const event = await publish(api.api, tenant.id, 'dup.event', { n: 1 });
      const [delivery] = await api.sql<{ id: string }>(`SELECT id FROM deliveries WHERE event_id = $1`, [event.id]);
      const [live, bulk] = lanes;
      const jobId = deliveryJobId(delivery.id, 1);
      await waitFor('the live job', async () => !!(await live.getJob(jobId)));
      // What the sweeper's re-offer adds (DeliveryScheduler.dispatch(…, 'sweep')): the same job, in the bulk lane.
      await bulk.add({ v: 1, deliveryId: delivery.id, endpointId: endpoint.id, attempt: 1 }, { jobId, removeOnComplete: true, removeOnFail: true });
      expect(await bulk.getJob(jobId)).not.toBeNull();

      worker = await startHerald({ HERALD_ROLE: 'worker' }, api);
      await waitFor('both jobs consumed', async () => !(await live.getJob(jobId)) && !(await bulk.getJob(jobId)), 30_000);
      await waitFor('the delivery succeeded', async () => {
        const [row] = await api.sql<{ status: string }>(`SELECT status FROM deliveries WHERE id = $1`, [delivery.id]);
        return row.status === 'succeeded';
      });
      expect(receiver.received).toHaveLength(1);
      const [{ n }] = await api.sql<{ n: string }>(`SELECT count(*) AS n FROM attempts WHERE delivery_id = $1`, [delivery.id]);
      expect(Number(n)).toBe(1);
    });
  });
});
