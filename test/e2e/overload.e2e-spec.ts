import { Client } from 'pg';
import { createEndpoint, createTenant } from '../support/fixtures';
import { ApiResponse, Herald, startHerald } from '../support/herald';
import { waitFor } from '../support/wait';

/**
 * Under overload the API sheds instead of queueing: once HERALD_PUBLISH_QUEUE_LIMIT events wait for a commit,
 * a publish is answered 503 with Retry-After at once and stores nothing, while the accepted ones are committed.
 * The commits are held by a lock on the events table, so the queue fills without depending on the machine's speed.
 */
describe('shedding publishes under overload', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({ HERALD_ROLE: 'api', HERALD_PUBLISH_QUEUE_LIMIT: '3', HERALD_DB_STATEMENT_TIMEOUT_MS: '120000' });
  });
  afterAll(async () => {
    await herald?.close();
  });

  it('answers 503 with Retry-After past the queue limit, stores nothing for those, and commits every accepted one', async () => {
    const tenant = await createTenant(herald.api);
    await createEndpoint(herald.api, tenant.id, { url: 'http://127.0.0.1:9/hook' });
    // Fills the endpoint cache, so the publishes below only wait on the commit.
    expect((await herald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'warm.up', payload: {} })).status).toBe(202);

    const lock = new Client({ connectionString: herald.env.DATABASE_URL });
    await lock.connect();
    const answers: ApiResponse[] = [];
    let sent: Promise<void>[] = [];
    try {
      // Blocks inserts into events (reads go on): the commit in flight waits, the next requests queue up.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE');
      sent = Array.from({ length: 8 }, (_, i) =>
        herald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'load.test', payload: { i } }).then((res) => void answers.push(res)),
      );
      // One commit in flight (a second one waits for more events than the limit lets in) and three events waiting:
      // the other four requests are shed without waiting.
      await waitFor('four publishes shed', () => answers.length >= 4, 60_000);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
    await Promise.all(sent);

    const shed = answers.filter((a) => a.status === 503);
    const accepted = answers.filter((a) => a.status === 202);
    expect(shed).toHaveLength(4);
    expect(accepted).toHaveLength(4);
    for (const res of shed) {
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.message).toMatch(/overloaded.*HERALD_PUBLISH_QUEUE_LIMIT/);
    }
    const stored = await herald.sql<{ id: string }>(`SELECT id FROM events WHERE tenant_id = $1 AND event_type = 'load.test' ORDER BY id`, [tenant.id]);
    expect(stored.map((e) => e.id).sort()).toEqual(accepted.map((a) => a.body.id as string).sort());
    const deliveries = await herald.sql<{ n: string }>(`SELECT count(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.tenant_id = $1 AND e.event_type = 'load.test'`, [tenant.id]);
    expect(Number(deliveries[0].n)).toBe(4);

    const metrics = await herald.api.get('/metrics');
    expect(String(metrics.body)).toMatch(/herald_publish_shed_total 4/);
  });
});
