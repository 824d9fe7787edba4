import { createEndpoint, createTenant, publish, publishBatches } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

const PLACES = 4;
const BACKLOG = 200;
const SLOW_MS = 3000;

/**
 * A hot endpoint's backlog must not hold up the other endpoints of its shard (issue 11 §1). One shard, a budget of
 * four attempts, a slow endpoint with 200 queued, then one event for a neighbour: the neighbour's delivery goes out
 * with the next free place, long before the backlog drains (which takes 200 × 3 s ÷ 4 = 150 s at that pace), and
 * every event still arrives exactly once.
 */
describe('a hot endpoint beside its neighbours on one shard', () => {
  let herald: Herald;
  let hot: TestReceiver;
  let neighbour: TestReceiver;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_SHARDS: '1', HERALD_WORKER_CONCURRENCY: String(PLACES) });
    hot = await TestReceiver.start();
    neighbour = await TestReceiver.start();
  });
  afterAll(async () => {
    await herald?.close();
    await hot?.close();
    await neighbour?.close();
  });

  it("delivers the neighbour's event with the next free place, and every backlog event once", async () => {
    const tenant = await createTenant(herald.api);
    await createEndpoint(herald.api, tenant.id, { url: `${hot.url}/hot`, eventTypes: ['hot.event'], timeoutMs: 30_000 });
    await createEndpoint(herald.api, tenant.id, { url: `${neighbour.url}/calm`, eventTypes: ['calm.event'] });
    hot.always({ status: 200, delayMs: SLOW_MS });

    const published = await publishBatches(herald.api, tenant.id, 'hot.event', BACKLOG, 100);
    await waitFor('the budget full of slow attempts', () => hot.inFlight === PLACES, 30_000);

    const calm = await publish(herald.api, tenant.id, 'calm.event', { hello: 'neighbour' });
    await waitFor("the neighbour's delivery", () => neighbour.received.length === 1, 60_000);
    expect(neighbour.received[0].headers['webhook-id']).toBe(calm.id);
    // It did not wait for the backlog: most of it is still to be sent.
    expect(hot.received.length).toBeLessThan(BACKLOG / 2);

    hot.always({ status: 200 });
    await waitFor('the whole backlog', () => hot.received.length >= BACKLOG, 120_000);
    await waitFor('every delivery succeeded', async () => {
      const [{ n }] = await herald.sql<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant.id]);
      return Number(n) === BACKLOG + 1;
    });
    const ids = hot.received.map((r) => r.headers['webhook-id'] as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(published));
    const [{ n: attempts }] = await herald.sql<{ n: string }>(`SELECT count(*) AS n FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1`, [tenant.id]);
    expect(Number(attempts)).toBe(BACKLOG + 1);
  });
});
