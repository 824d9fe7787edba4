import Queue from 'bull';
import { deliveryJobId, deliveryQueueName, shardOf } from '../../src/queues/delivery-queues';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { waitFor } from '../support/wait';

const SHARDS = 2;
const EVENTS = 5;

/**
 * The sweeper offers again what Redis lost, and only that: a backlog still queued but overdue (it takes longer than
 * the grace to drain) is left where it is. It used to be re-added in full at every sweep, one addJob script per row
 * and a duplicate job in the bulk lane for every job waiting in the live lane.
 */
describe('the sweeper', () => {
  let api: Herald;
  let worker: Herald;
  let lanes: Queue.Queue[];

  beforeAll(async () => {
    // The worker consumes shard 0 only and sweeps every 200 ms, a second's grace (an enqueue follows its commit within
    // it); the endpoint is put on shard 1, so its jobs stay queued, and overdue at every sweep after the first second.
    api = await startHerald({ HERALD_SHARDS: String(SHARDS), HERALD_ROLE: 'api' });
    worker = await startHerald({ HERALD_ROLE: 'worker', HERALD_WORKER_SHARDS: '0', HERALD_SWEEP_GRACE_MS: '1000', HERALD_SWEEP_INTERVAL_MS: '200' }, api);
    lanes = (['live', 'bulk'] as const).map((lane) => new Queue(deliveryQueueName(1, lane), api.env.REDIS_URL, { prefix: api.config.queuePrefix }));
  });
  afterAll(async () => {
    await Promise.all(lanes?.map((q) => q.close()) ?? []);
    await worker?.close();
    await api?.close();
  });

  it('offers again a job Redis lost, and leaves the jobs still queued alone', async () => {
    const tenant = await createTenant(api.api);
    let endpoint = await createEndpoint(api.api, tenant.id, { url: 'http://127.0.0.1:9/never', eventTypes: ['swept.event'] });
    while (shardOf(endpoint.id, SHARDS) !== 1) {
      await api.api.delete(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`);
      endpoint = await createEndpoint(api.api, tenant.id, { url: 'http://127.0.0.1:9/never', eventTypes: ['swept.event'] });
    }
    for (let n = 0; n < EVENTS; n++) await publish(api.api, tenant.id, 'swept.event', { n });
    const deliveries = await api.sql<{ id: string }>(`SELECT id FROM deliveries WHERE endpoint_id = $1 ORDER BY id`, [endpoint.id]);
    expect(deliveries).toHaveLength(EVENTS);
    const [live, bulk] = lanes;
    const jobIds = deliveries.map((d) => deliveryJobId(d.id, 1));
    await waitFor('every live job', async () => (await Promise.all(jobIds.map((id) => live.getJob(id)))).every(Boolean));

    // Redis loses one job; the next sweep offers it again, in the bulk lane.
    const lostId = jobIds[0];
    await (await live.getJob(lostId))!.remove();
    await waitFor('the lost job offered again', async () => !!(await bulk.getJob(lostId)), 30_000);

    // That sweep saw every delivery overdue; the four still queued were not added again, in either lane.
    expect((await bulk.getJobs(['waiting', 'delayed', 'active'])).map((j) => j.id)).toEqual([lostId]);
    expect((await live.getJobs(['waiting', 'delayed', 'active'])).map((j) => String(j.id)).sort()).toEqual(jobIds.slice(1).sort());
  });
});
