import { DataSource } from 'typeorm';
import { newId } from '../../src/common/ids';
import { dataSourceOptions } from '../../src/database/data-source';
import { PartitionMaintenance } from '../../src/database/partition-maintenance';
import { dayPartition } from '../../src/database/partitions';
import { AttemptRecorder, RECORD_GROUP_MAX } from '../../src/deliveries/attempt-recorder';
import { DeliveryStore } from '../../src/deliveries/delivery-store';
import { succeededAttempt } from '../support/attempts';
import { openTestDataSource } from '../support/database';
import { intercepting } from '../support/statements';

jest.setTimeout(60_000);

const ROWS = 50_000;
/** As many claims as one statement takes (TickBatch's max), and as many records. */
const BATCH = 500;
const GROUP = RECORD_GROUP_MAX;

interface PlanNode {
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Rows every node of an executed plan handled, summed over its loops: the work the statement did. */
function rowsHandled(node: PlanNode): number {
  return node['Actual Rows'] * node['Actual Loops'] + (node.Plans ?? []).reduce((sum, child) => sum + rowsHandled(child), 0);
}

/**
 * The claim and the attempt record against a day partition that holds 50 000 pending deliveries and no statistics yet:
 * a backlog published into a new day's partition before autovacuum analyzed it. What matters is the work each statement does,
 * read from its executed plan, not its time: a plan that scans the partition, or scans it and re-reads the batch for
 * each of its rows (10 million rows' work; it took 4.7 s), does work that grows with the partition, where lookups by
 * key do a few rows' work per delivery.
 */
describe('the hot statements against a partition with stale statistics', () => {
  let close: () => Promise<void>;
  let db: DataSource;
  let endpointId: string;
  let ids: string[];

  beforeAll(async () => {
    ({ db, close } = await openTestDataSource());
    await new PartitionMaintenance(db).maintain();
    const tenantId = newId('tnt');
    endpointId = newId('ep');
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'plans')`, [tenantId]);
    await db.query(`INSERT INTO endpoints (id, tenant_id, url, secret_sealed, retry_policy) VALUES ($1, $2, 'https://example.com/hook', 'sealed', '{}')`, [endpointId, tenantId]);
    // No statistics, and none taken while the test runs (autovacuum would analyze the partitions at any moment).
    for (const table of ['events', 'deliveries'] as const) {
      await db.query(`ALTER TABLE "${dayPartition(table, new Date()).name}" SET (autovacuum_enabled = false)`);
    }
    const events = Array.from({ length: ROWS }, () => newId('evt'));
    ids = Array.from({ length: ROWS }, () => newId('dlv'));
    await db.query(`INSERT INTO events (id, tenant_id, event_type, payload) SELECT unnest($1::varchar[]), $2, 'order.created', '{"n":1}'`, [events, tenantId]);
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger)
       SELECT d, $3, e, $4, 'order.created', 'pending', 0, now(), 'initial' FROM unnest($1::varchar[], $2::varchar[]) AS t(d, e)`,
      [ids, events, tenantId, endpointId],
    );
  });

  afterAll(async () => {
    await close?.();
  });

  /**
   * A DataSource that runs each UPDATE under EXPLAIN ANALYZE instead (it still changes the rows) and keeps its work.
   * A named statement (src/database/prepared.ts) is explained unnamed, with the same values: planned as the named one
   * is, with its values (see the last test).
   */
  function explaining(): { spy: DataSource; work: number[] } {
    const work: number[] = [];
    const spy = intercepting(db, async ({ text, values }) => {
      if (!/UPDATE/.test(text)) return undefined;
      const [{ 'QUERY PLAN': [plan] }] = await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
      work.push(rowsHandled(plan.Plan));
      return [];
    });
    return { spy, work };
  }

  it('claims a batch with a few rows of work per delivery', async () => {
    const { spy, work } = explaining();
    const store = new DeliveryStore(spy);
    await Promise.all(ids.slice(0, BATCH).map((id) => store.claim(id, 1, 30_000)));
    expect(work.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...work)).toBeLessThan(BATCH * 20);
    // The same claims for real: every one of them is claimed (the explained run claimed them, so let them go first).
    await db.query(`UPDATE deliveries SET claimed_until = NULL WHERE id = ANY($1)`, [ids.slice(0, BATCH)]);
    const claimed = await Promise.all(ids.slice(0, BATCH).map((id) => new DeliveryStore(db).claim(id, 1, 30_000)));
    expect(claimed.filter((c) => c?.payload === '{"n":1}')).toHaveLength(BATCH);
  });

  it('records a group of attempts with work bounded by the group, never by the partition', async () => {
    const { spy, work } = explaining();
    const recorder = new AttemptRecorder(spy);
    const group = ids.slice(BATCH, BATCH + GROUP);
    await Promise.all(group.map((deliveryId) => recorder.record(succeededAttempt(deliveryId, endpointId))));
    expect(work.length).toBeGreaterThanOrEqual(1);
    // The record joins the group to its rows: with an estimate of one row, the join may compare every pair of the
    // group; never anything that grows with the partition.
    expect(Math.max(...work)).toBeLessThan(GROUP * GROUP + GROUP * 20);
    expect(Math.max(...work)).toBeLessThan(ROWS);
  });

  it('keeps the named statements on custom plans, planned with their values at every run', async () => {
    // One connection, so that its prepared statements are the ones this session sees; a server whose default is the
    // generic plan (PostgreSQL's own default picks one once it looks as cheap, as it can with a partition nearly empty).
    const options = dataSourceOptions({ databaseUrl: (db.options as { url: string }).url });
    const one = new DataSource({ ...options, extra: { ...options.extra, max: 1, options: '-c plan_cache_mode=force_generic_plan' }, logging: false } as typeof options);
    await one.initialize();
    try {
      const store = new DeliveryStore(one);
      const recorder = new AttemptRecorder(one);
      const runs = 8; // PostgreSQL's default would try a generic plan from the sixth run on
      for (const id of ids.slice(-runs)) {
        expect(await store.claim(id, 1, 30_000)).toMatchObject({ id });
        expect(await recorder.record(succeededAttempt(id, endpointId))).toMatchObject({ recorded: true });
      }
      const statements: { statement: string; generic_plans: string; custom_plans: string }[] = await one.query(
        `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'herald_%'`,
      );
      expect(statements.map((s) => s.statement.trim().slice(0, 40))).toEqual(expect.arrayContaining([expect.stringContaining('UPDATE'), expect.stringContaining('WITH input')]));
      for (const s of statements) expect({ statement: s.statement.trim().slice(0, 40), generic: Number(s.generic_plans), custom: Number(s.custom_plans) }).toMatchObject({ generic: 0, custom: runs });
    } finally {
      await one.destroy();
    }
  });
});
