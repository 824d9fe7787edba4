import { ulid } from 'ulid';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source';
import { PartitionMaintenance } from '../../src/database/partition-maintenance';
import { dayPartition } from '../../src/database/partitions';
import { RetentionPurge } from '../../src/deliveries/retention-purge';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

const DAY = 86_400_000;

/** Time partitions of events, deliveries and attempts (issue 15, section 4): the worker's maintenance and retention. */
describe('time partitions', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let db: DataSource;
  beforeAll(async () => {
    [herald, receiver] = await Promise.all([startHerald({ HERALD_RETENTION_DAYS: '30' }), TestReceiver.start()]);
    db = new DataSource({ ...dataSourceOptions({ databaseUrl: herald.env.DATABASE_URL }), logging: false });
    await db.initialize();
  });
  afterAll(async () => {
    await db?.destroy();
    await Promise.all([herald.close(), receiver.close()]);
  });
  const api = () => herald.api;
  const partitions = async (table: string): Promise<string[]> =>
    (await herald.sql(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [table])).map(
      (r: { name: string }) => r.name,
    );
  const idAt = (kind: string, ms: number) => `${kind}_${ulid(ms)}`;

  /** Rows of an event made `daysAgo` days ago, written as they would have been then: one delivery, one attempt. */
  async function backdated(tenantId: string, endpointId: string, daysAgo: number, status: 'succeeded' | 'pending') {
    const at = Date.now() - daysAgo * DAY;
    const event = idAt('evt', at);
    const delivery = idAt('dlv', at + 1);
    const attempt = idAt('att', at + 2);
    const when = new Date(at).toISOString();
    await herald.sql(`INSERT INTO events (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, 'old.one', '{"old":true}', $3)`, [event, tenantId, when]);
    await herald.sql(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'old.one', $5, 1, NULL, 'retry', $6, $6)`,
      [delivery, tenantId, event, endpointId, status, when],
    );
    await herald.sql(
      `INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code) VALUES ($1, $2, $3, 1, 'initial', $4, 12, $5)`,
      [attempt, delivery, endpointId, when, status === 'succeeded' ? 200 : 500],
    );
    return { event, delivery, attempt, day: (table: 'events' | 'deliveries' | 'attempts') => dayPartition(table, new Date(at)).name };
  }

  it('has a partition a day ahead for each table, made by the worker', async () => {
    for (const table of ['events', 'deliveries', 'attempts'] as const) {
      const wanted = [0, 1, 7].map((d) => dayPartition(table, new Date(Date.now() + d * DAY)).name);
      await waitFor(`${table} partitions ahead`, async () => {
        const have = await partitions(table);
        return wanted.every((w) => have.includes(w)) && have.includes(`${table}_default`);
      });
    }
    // The indexes the list routes read are on every partition.
    const today = dayPartition('deliveries', new Date()).name;
    const indexes = (await herald.sql(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [today])).map((r: { indexdef: string }) => r.indexdef).join('\n');
    expect(indexes).toMatch(/\(tenant_id, id\)/);
    expect(indexes).toMatch(/\(endpoint_id, id\)/);
    const attemptIndexes = (await herald.sql(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [dayPartition('attempts', new Date()).name])).map((r: { indexdef: string }) => r.indexdef).join('\n');
    expect(attemptIndexes).toMatch(/\(delivery_id, attempt_number\)/);
    expect(attemptIndexes).toMatch(/\(endpoint_id, started_at\)/);
  });

  it('never fails a write outside every partition, and moves such rows into their day later', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/moved`, disabled: true });
    const old = await backdated(tenant.id, endpoint.id, 50, 'succeeded');
    expect(await herald.sql(`SELECT id FROM ONLY events_default WHERE id = $1`, [old.event])).toHaveLength(1);

    const result = await new PartitionMaintenance(db).maintain();
    expect(result.created).toEqual(expect.arrayContaining([old.day('events'), old.day('deliveries'), old.day('attempts')]));
    expect(result.moved).toBe(3);
    for (const table of ['events', 'deliveries', 'attempts']) expect(await herald.sql(`SELECT id FROM "${table}_default"`)).toEqual([]);
    expect(await herald.sql(`SELECT id FROM "${old.day('events')}"`)).toEqual([{ id: old.event }]);

    const event = await api().get(`/v1/tenants/${tenant.id}/events/${old.event}`);
    expect(event.status).toBe(200);
    const attempts = await api().get(`/v1/tenants/${tenant.id}/deliveries/${old.delivery}/attempts`);
    expect(attempts.body.data.map((a: { id: string }) => a.id)).toEqual([old.attempt]);
  });

  it('drops whole days past the retention, keeps current ones, and dead-letters what was still pending instead of losing it', async () => {
    const tenant = await createTenant(api());
    const live = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/current` });
    const parkedAt = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/parked`, disabled: true });
    const current = await publish(api(), tenant.id, 'current.one', {});
    await waitFor('the current event delivered', () => receiver.forPath('/current').length === 1);

    const gone = await backdated(tenant.id, live.id, 42, 'succeeded');
    const stuck = await backdated(tenant.id, parkedAt.id, 40, 'pending');
    await new PartitionMaintenance(db).maintain();

    const purge = new RetentionPurge(db, loadConfig({ ...herald.env, HERALD_RETENTION_DAYS: '30' }));
    const result = await purge.purge();
    expect(result.expired).toBe(1);
    expect(result.dropped).toEqual(expect.arrayContaining([gone.day('attempts'), gone.day('deliveries'), gone.day('events'), stuck.day('attempts')]));
    // The expired delivery changed just now: its day stays, with its event, for another retention period.
    expect(result.kept).toEqual(expect.arrayContaining([stuck.day('deliveries'), stuck.day('events')]));
    const today = (t: 'events' | 'deliveries' | 'attempts') => dayPartition(t, new Date()).name;
    expect(result.dropped).not.toContain(today('events'));
    expect(await partitions('events')).toContain(today('events'));

    expect((await api().get(`/v1/tenants/${tenant.id}/events/${gone.event}`)).status).toBe(404);
    expect((await api().get(`/v1/tenants/${tenant.id}/deliveries/${gone.delivery}`)).status).toBe(404);
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${current.id}`)).status).toBe(200);
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${stuck.event}`)).status).toBe(200);
    const dead = (await api().get(`/v1/tenants/${tenant.id}/deliveries?status=dead&eventId=${stuck.event}`)).body.data;
    expect(dead).toHaveLength(1);
    expect(dead[0].lastError).toBe('expired');

    // One retention period after it was dead-lettered, its day goes as well; nothing newer does.
    const later = await purge.purge(new Date(Date.now() + 31 * DAY));
    expect(later.dropped).toEqual(expect.arrayContaining([stuck.day('deliveries'), stuck.day('events')]));
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${stuck.event}`)).status).toBe(404);
  });

  it('keeps an old event while a delivery made for it later (a replay) may still be read', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/replayed`, disabled: true });
    const old = await backdated(tenant.id, endpoint.id, 35, 'succeeded');
    // A delivery of that event made today, as a replay with `missing: true` makes them: in today's partition.
    const replayed = idAt('dlv', Date.now());
    await herald.sql(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, next_attempt_at) VALUES ($1, $2, $3, $4, 'old.one', 'dead', NULL)`,
      [replayed, tenant.id, old.event, endpoint.id],
    );
    await new PartitionMaintenance(db).maintain();
    const result = await new RetentionPurge(db, loadConfig({ ...herald.env, HERALD_RETENTION_DAYS: '30' })).purge();
    expect(result.dropped).toEqual(expect.arrayContaining([old.day('deliveries'), old.day('attempts')]));
    expect(result.kept).toContain(old.day('events'));
    expect((await api().get(`/v1/tenants/${tenant.id}/deliveries/${replayed}`)).status).toBe(200);
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${old.event}`)).status).toBe(200);

    // Once that delivery is old news, the event's day goes, and the delivery (in a day that stays) goes with it.
    const replayedAttempt = idAt('att', Date.now());
    await herald.sql(`INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code) VALUES ($1, $2, $3, 1, 'manual', now(), 5, 500)`, [
      replayedAttempt,
      replayed,
      endpoint.id,
    ]);
    await herald.sql(`UPDATE deliveries SET updated_at = now() - interval '40 days' WHERE id = $1`, [replayed]);
    const after = await new RetentionPurge(db, loadConfig({ ...herald.env, HERALD_RETENTION_DAYS: '30' })).purge();
    expect(after.dropped).toContain(old.day('events'));
    expect(await herald.sql(`SELECT id FROM deliveries WHERE id = $1`, [replayed])).toEqual([]);
    expect(await herald.sql(`SELECT id FROM attempts WHERE id = $1`, [replayedAttempt])).toEqual([]);
  });

  it('removes a tenant with its deliveries and attempts, which no foreign key cascades to now', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/removed` });
    const event = await publish(api(), tenant.id, 'to.remove', {});
    await waitFor('an attempt recorded', async () => (await herald.sql(`SELECT 1 FROM attempts WHERE endpoint_id = $1`, [endpoint.id])).length === 1);
    expect((await api().delete(`/v1/tenants/${tenant.id}`)).status).toBe(204);
    expect(await herald.sql(`SELECT id FROM deliveries WHERE event_id = $1`, [event.id])).toEqual([]);
    expect(await herald.sql(`SELECT id FROM attempts WHERE endpoint_id = $1`, [endpoint.id])).toEqual([]);
  });

  it('still answers a reused idempotency key with the first event, and frees it after 24 h', async () => {
    const tenant = await createTenant(api());
    const first = await publish(api(), tenant.id, 'keyed', {}, { idempotencyKey: 'k-1' });
    const again = await publish(api(), tenant.id, 'keyed', {}, { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
    const [second, third] = await Promise.all([publish(api(), tenant.id, 'keyed', {}, { idempotencyKey: 'k-2' }), publish(api(), tenant.id, 'keyed', {}, { idempotencyKey: 'k-2' })]);
    expect(second.id).toBe(third.id);
    await herald.sql(`UPDATE event_idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1 AND key = 'k-1'`, [tenant.id]);
    const fresh = await publish(api(), tenant.id, 'keyed', {}, { idempotencyKey: 'k-1' });
    expect(fresh.id).not.toBe(first.id);
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${first.id}`)).body.idempotencyKey).toBeNull();
    // Retention releases the keys nobody reused once they are 24 h old.
    await herald.sql(`UPDATE event_idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1 AND key = 'k-2'`, [tenant.id]);
    const result = await new RetentionPurge(db, loadConfig({ ...herald.env, HERALD_RETENTION_DAYS: '30' })).purge();
    expect(result.released).toBeGreaterThanOrEqual(1);
    expect(await herald.sql(`SELECT key FROM event_idempotency_keys WHERE tenant_id = $1 ORDER BY key`, [tenant.id])).toEqual([{ key: 'k-1' }]);
    expect((await api().get(`/v1/tenants/${tenant.id}/events/${second.id}`)).body.idempotencyKey).toBeNull();
  });
});
