import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ulid } from 'ulid';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { migrations } from '../../src/database/migrations';
import { TimePartitions1795690000000 } from '../../src/database/migrations/1795690000000-time-partitions';
import { dayPartition, idTime } from '../../src/database/partitions';
import { ADMIN_URL } from '../support/database';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald, testEnvironment } from '../support/herald';

const DAY = 86_400_000;

/** The migration to time partitions on a database holding rows written under the schema before it. */
describe('migration to time partitions', () => {
  let herald: Herald;
  let database: string;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  afterAll(async () => {
    await herald?.close();
    if (database) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('moves every row into its day partition, reachable through the API as before', async () => {
    database = `herald_mig_${randomBytes(5).toString('hex')}`;
    await admin(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const before = migrations.slice(0, migrations.indexOf(TimePartitions1795690000000));
    const db = new DataSource({ ...dataSourceOptions({ databaseUrl: url.toString() }), migrations: before, logging: false });
    await db.initialize();

    // A tenant, an endpoint, and events over three days (one 20 days back), each with a delivery and two attempts.
    await db.runMigrations({ transaction: 'each' });
    const tenantId = `tnt_${ulid()}`;
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'migrated')`, [tenantId]);
    const endpointId = `ep_${ulid()}`;
    await db.query(`INSERT INTO endpoints (id, tenant_id, url, secret_sealed, retry_policy, disabled) VALUES ($1, $2, 'https://example.com/hook', 'x', '{}', true)`, [endpointId, tenantId]);
    const rows: { event: string; delivery: string; attempts: string[] }[] = [];
    for (const daysAgo of [20, 1, 0]) {
      const at = Date.now() - daysAgo * DAY - 60_000;
      const event = `evt_${ulid(at)}`;
      const delivery = `dlv_${ulid(at + 1)}`;
      const attempts = [`att_${ulid(at + 2)}`, `att_${ulid(at + 3)}`];
      const when = new Date(at).toISOString();
      await db.query(`INSERT INTO events (id, tenant_id, event_type, payload, idempotency_key, created_at) VALUES ($1, $2, 'migrated.one', '{"n":1}', $3, $4)`, [
        event,
        tenantId,
        daysAgo === 0 ? 'kept-key' : null,
        when,
      ]);
      await db.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, created_at, updated_at) VALUES ($1, $2, $3, $4, 'migrated.one', 'dead', 2, $5, $5)`,
        [delivery, tenantId, event, endpointId, when],
      );
      for (const [i, attempt] of attempts.entries()) {
        await db.query(`INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code) VALUES ($1, $2, $3, $4, 'initial', $5, 5, 500)`, [
          attempt,
          delivery,
          endpointId,
          i + 1,
          when,
        ]);
      }
      rows.push({ event, delivery, attempts });
    }
    await db.destroy();

    const all = new DataSource({ ...dataSourceOptions({ databaseUrl: url.toString() }), logging: false });
    await all.initialize();
    try {
      expect((await all.runMigrations({ transaction: 'each' })).map((m) => m.name)).toContain(TimePartitions1795690000000.name);
      const [{ kind }] = await all.query(`SELECT relkind AS kind FROM pg_class WHERE relname = 'deliveries'`);
      expect(kind).toBe('p');
      // Every row is there, none in DEFAULT.
      for (const table of ['events', 'deliveries', 'attempts']) expect(await all.query(`SELECT id FROM "${table}_default"`)).toEqual([]);
      expect(await all.query(`SELECT count(*)::int AS n FROM events`)).toEqual([{ n: 3 }]);
      expect(await all.query(`SELECT count(*)::int AS n FROM deliveries`)).toEqual([{ n: 3 }]);
      expect(await all.query(`SELECT count(*)::int AS n FROM attempts`)).toEqual([{ n: 6 }]);

      // It can be undone (back to plain tables, rows and foreign keys kept) and made again.
      const runner = all.createQueryRunner();
      try {
        await new TimePartitions1795690000000().down(runner);
        expect(await all.query(`SELECT relkind AS kind FROM pg_class WHERE relname = 'deliveries'`)).toEqual([{ kind: 'r' }]);
        expect(await all.query(`SELECT count(*)::int AS n FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id`)).toEqual([{ n: 6 }]);
        await new TimePartitions1795690000000().up(runner);
        expect(await all.query(`SELECT relkind AS kind FROM pg_class WHERE relname = 'deliveries'`)).toEqual([{ kind: 'p' }]);
        expect(await all.query(`SELECT count(*)::int AS n FROM attempts`)).toEqual([{ n: 6 }]);
      } finally {
        await runner.release();
      }
    } finally {
      await all.destroy();
    }

    // The settings of a test installation (its own database made by testEnvironment is not needed), on this database.
    const { env, dispose } = await testEnvironment();
    await dispose();
    herald = await startHerald({}, { env: { ...env, DATABASE_URL: url.toString() } });
    const api = herald.api;
    for (const r of rows) {
      // Each row sits in its own day's partition.
      const partition = (await herald.sql(`SELECT tableoid::regclass::text AS p FROM events WHERE id = $1`, [r.event]))[0].p;
      expect(partition).toBe(dayPartition('events', idTime(r.event)!).name);
      const event = await api.get(`/v1/tenants/${tenantId}/events/${r.event}`);
      expect(event.status).toBe(200);
      expect(event.body.payload).toEqual({ n: 1 });
      const deliveries = (await api.get(`/v1/tenants/${tenantId}/deliveries?eventId=${r.event}`)).body.data;
      expect(deliveries.map((d: { id: string }) => d.id)).toEqual([r.delivery]);
      const attempts = (await api.get(`/v1/tenants/${tenantId}/deliveries/${r.delivery}/attempts`)).body.data;
      expect(attempts.map((a: { id: string }) => a.id)).toEqual(r.attempts);
    }
    const listed = (await api.get(`/v1/tenants/${tenantId}/deliveries?status=dead`)).body.data;
    expect(listed.map((d: { id: string }) => d.id)).toEqual(rows.map((r) => r.delivery).reverse());
    // The idempotency key in use before the migration still names its event.
    const again = await publish(api, tenantId, 'migrated.one', { n: 2 }, { idempotencyKey: 'kept-key' });
    expect(again.id).toBe(rows[2].event);
    // And new writes go on.
    const endpoint = await createEndpoint(api, (await createTenant(api)).id, { url: 'https://example.com/x', disabled: true });
    expect(endpoint.id).toMatch(/^ep_/);
  });
});

