import { DataSource } from 'typeorm';
import { HeraldConfig, loadConfig } from '../../src/config/config';
import { newId } from '../../src/common/ids';
import { MetricsService } from '../../src/metrics/metrics.service';
import { SOURCE_REQUEST_LOG_SIZE, SourceRequestPruner, requestIdAt } from '../../src/inbound/source-request-pruner';
import { SourceRequestEntry, SourceRequestLog } from '../../src/inbound/source-request-log';
import { openTestDataSource } from '../support/database';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

describe('the inbound request log against PostgreSQL', () => {
  let close: () => Promise<void>;
  let db: DataSource;
  let tenantId: string;

  beforeAll(async () => {
    ({ db, close } = await openTestDataSource());
    tenantId = newId('tnt');
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'inbound-log')`, [tenantId]);
  });

  afterAll(async () => {
    await close?.();
  });

  async function source(): Promise<string> {
    const id = newId('src');
    await db.query(`INSERT INTO sources (id, tenant_id, name, verifier_type, verifier_sealed) VALUES ($1, $2, 'log', 'none', 'sealed')`, [id, tenantId]);
    return id;
  }

  const entry = (sourceId: string, n: number): SourceRequestEntry => ({
    tenantId,
    sourceId,
    receivedAt: new Date(),
    accepted: n % 2 === 0,
    statusCode: n % 2 === 0 ? 200 : 401,
    reason: n % 2 === 0 ? null : `reason ${n}`,
    eventId: null,
    eventType: null,
    providerEventId: null,
    duplicate: false,
    contentType: 'application/json',
    bodyBytes: n,
  });

  it('writes every row handed over, in groups, and leaves out only those whose source is gone', async () => {
    const metrics = new MetricsService(loadConfig({ NODE_ENV: 'test' }));
    const log = new SourceRequestLog(db, metrics);
    const kept = await source();
    const deleted = await source();
    await db.query('DELETE FROM sources WHERE id = $1', [deleted]);
    for (let n = 0; n < 1200; n++) log.record(entry(n % 7 === 0 ? deleted : kept, n));
    await log.flushed();

    const rows: { status_code: number; reason: string | null; body_bytes: number }[] = await db.query('SELECT status_code, reason, body_bytes FROM source_requests WHERE source_id = $1 ORDER BY id', [kept]);
    const expected = Array.from({ length: 1200 }, (_, n) => n).filter((n) => n % 7 !== 0);
    expect(rows.map((r) => r.body_bytes)).toEqual(expected);
    expect(rows.every((r) => (r.body_bytes % 2 === 0 ? r.status_code === 200 && r.reason === null : r.status_code === 401 && r.reason === `reason ${r.body_bytes}`))).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString('herald_inbound_request_log_failures_total')).toMatch(/ 0$/m);
  });

  it('leaves out, without counting a failure, the rows of a source deleted while they are written', async () => {
    const metrics = new MetricsService(loadConfig({ NODE_ENV: 'test' }));
    const log = new SourceRequestLog(db, metrics);
    const kept = await source();
    const going = await source();
    // The delete holds the source's row while the log writes: the insert sees the source, then waits on its lock,
    // and the delete's commit makes its foreign key fail.
    const deleting = db.createQueryRunner();
    await deleting.connect();
    await deleting.startTransaction();
    await deleting.query('DELETE FROM sources WHERE id = $1', [going]);
    log.record(entry(going, 1));
    log.record(entry(kept, 2));
    await waitFor('the log to wait on the deleted source', async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO source_requests%'`);
      return n > 0;
    });
    await deleting.commitTransaction();
    await deleting.release();
    await log.flushed();
    expect(await db.query('SELECT source_id, body_bytes FROM source_requests WHERE source_id = ANY($1)', [[kept, going]])).toEqual([{ source_id: kept, body_bytes: 2 }]);
    expect(await metrics.registry.getSingleMetricAsString('herald_inbound_request_log_failures_total')).toMatch(/ 0$/m);
  });

  it('counts the rows it cannot write instead of losing them silently', async () => {
    const metrics = new MetricsService(loadConfig({ NODE_ENV: 'test' }));
    const log = new SourceRequestLog(db, metrics);
    const kept = await source();
    log.record({ ...entry(kept, 1), bodyBytes: -1, statusCode: 2 ** 40 });
    log.record(entry(kept, 2));
    await log.flushed();
    expect(await db.query('SELECT body_bytes FROM source_requests WHERE source_id = $1', [kept])).toEqual([{ body_bytes: 2 }]);
    expect(await metrics.registry.getSingleMetricAsString('herald_inbound_request_log_failures_total')).toMatch(/ 1$/m);
  });

  it('prunes each source to its newest rows and every source to the retention period', async () => {
    await db.query('DELETE FROM source_requests');
    const config = { retentionDays: 30 } as HeraldConfig;
    const pruner = new SourceRequestPruner(db, config);
    const busy = await source();
    const quiet = await source();
    const now = Date.now();
    const insert = (sourceId: string, ids: string[]) =>
      db.query(
        `INSERT INTO source_requests (id, tenant_id, source_id, received_at, accepted, status_code, body_bytes)
         SELECT id, $2, $3, now(), true, 200, 0 FROM unnest($1::varchar[]) AS id`,
        [ids, tenantId, sourceId],
      );
    const busyIds = Array.from({ length: SOURCE_REQUEST_LOG_SIZE + 50 }, () => newId('req'));
    await insert(busy, busyIds);
    // ids that sort as requests received 40 days ago
    const old = Array.from({ length: 3 }, (_, i) => `${requestIdAt(now - 40 * 86_400_000).slice(0, 14)}${String(i).padStart(16, '0')}`);
    const recent = [newId('req'), newId('req')];
    await insert(quiet, [...old, ...recent]);

    expect(await pruner.prune(now)).toBe(50 + 3);
    const left = async (id: string) => (await db.query('SELECT id FROM source_requests WHERE source_id = $1 ORDER BY id', [id])).map((r: { id: string }) => r.id);
    expect(await left(busy)).toEqual(busyIds.slice(50));
    expect(await left(quiet)).toEqual(recent);
    expect(await pruner.prune(now)).toBe(0);
  });
});
