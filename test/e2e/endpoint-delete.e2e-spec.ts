import { createEndpoint, createTenant, publishBatches } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

const EVENTS = 10_000;
const BATCH = 500;

/**
 * Deleting an endpoint while the worker is busy with its backlog: the worker claims and records that endpoint's
 * deliveries in batches, each locking many of its rows, while the delete dead-letters the rest. Found by the bench
 * (a DELETE answered 500 beside a backlog: the two deadlocked and PostgreSQL aborted the delete).
 */
describe('deleting an endpoint under a backlog', () => {
  let herald: Herald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    // The bench's case: a worker with its default budget (1 000) busy with one endpoint that answers in 200 ms.
    herald = await startHerald();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await herald?.close();
    await receiver?.close();
  });

  it('answers 204 while deliveries are in flight, and leaves none of its deliveries pending', async () => {
    const api = herald.api;
    const tenant = await createTenant(api);
    const endpoint = await createEndpoint(api, tenant.id, { url: `${receiver.url}/busy`, eventTypes: ['busy.event'] });
    receiver.always({ status: 200, delayMs: 200 });
    await publishBatches(api, tenant.id, 'busy.event', EVENTS, BATCH);
    await waitFor('deliveries under way', () => receiver.received.length >= 1000, 60_000, 10);

    const res = await api.delete(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`);
    expect(res.status).toBe(204);
    expect((await api.get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).status).toBe(404);

    const counts = async () =>
      Object.fromEntries(
        (await herald.sql<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 GROUP BY status`, [endpoint.id])).map((r) => [r.status, r.n]),
      ) as Record<string, number>;
    await waitFor('no delivery of it pending', async () => !(await counts()).pending, 60_000, 100);
    const settled = await counts();
    expect((settled.succeeded ?? 0) + (settled.dead ?? 0)).toBe(EVENTS);
    expect(settled.dead).toBeGreaterThan(0);
    const reasons = await herald.sql<{ last_error: string }>(`SELECT DISTINCT last_error FROM deliveries WHERE endpoint_id = $1 AND status = 'dead'`, [endpoint.id]);
    expect(reasons.map((r) => r.last_error)).toEqual(['endpoint deleted']);
    // Each event was sent at most once, and each that succeeded was received.
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(settled.succeeded ?? 0);
  });
});
