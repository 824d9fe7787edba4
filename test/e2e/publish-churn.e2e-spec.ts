import { createTenant } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';

/**
 * Publishing while the tenant's endpoints keep changing: every change moves the tenant's endpoint-list version,
 * so a commit whose cached list went stale is made again; after a few stale tries the last one holds the tenant's
 * list still (FOR SHARE) and cannot fail. Before, a burst of endpoint creations beside a burst of publishes could
 * exhaust the tries and answer 500.
 */
describe('publishing while endpoints are being created', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_ROLE: 'api' });
  });
  afterAll(async () => {
    await herald?.close();
  });

  it('answers 202 to every publish, each with a delivery for every endpoint that existed before it was sent', async () => {
    const tenant = await createTenant(herald.api);
    const path = `/v1/tenants/${tenant.id}`;
    let created = 0;
    const creations = Array.from({ length: 60 }, async (_, i) => {
      const res = await herald.api.post(`${path}/endpoints`, { url: `http://127.0.0.1:9/hook/${i}` });
      expect(res.status).toBe(201);
      created++;
    });
    const publishes = Array.from({ length: 120 }, async (_, i) => {
      const before = created;
      const res = await herald.api.post(`${path}/events`, { eventType: 'churn.test', payload: { i } });
      return { before, res };
    });
    await Promise.all(creations);
    const answers = await Promise.all(publishes);

    for (const { before, res } of answers) {
      expect(res.status).toBe(202);
      expect(res.body.deliveryCount).toBeGreaterThanOrEqual(before);
    }
    // What each answer said is what was written.
    const rows = await herald.sql<{ event_id: string; n: number }>(
      `SELECT e.id AS event_id, count(d.id)::int AS n FROM events e LEFT JOIN deliveries d ON d.event_id = e.id WHERE e.tenant_id = $1 GROUP BY e.id`,
      [tenant.id],
    );
    const written = new Map(rows.map((r) => [r.event_id, r.n]));
    expect(written.size).toBe(answers.length);
    for (const { res } of answers) expect(written.get(res.body.id)).toBe(res.body.deliveryCount);
  });
});
