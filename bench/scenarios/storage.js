'use strict';
// Storage that stays fast as it grows (issue 15, section 4). Opt-in: `npm run bench:storage` (10 million attempts,
// minutes to load) or `node bench/run.js --only storage [--smoke]`; BENCH_STORAGE_ATTEMPTS sets another size.
// Loads attempts with the deliveries and events they imply straight into PostgreSQL (generate_series, never through
// the API) over DAYS day partitions, then measures through the running API, one request at a time: deliveries by
// status, attempts of a delivery, endpoint stats over 24 h by hour; and the retention run that drops the oldest day.
const path = require('node:path');
const { Client } = require('pg');
const { num, row } = require('../report');

const DAYS = 10;
const ENDPOINTS = 1000;
/** Each delivery has two attempts; each event two deliveries (to two endpoints). */
const ATTEMPTS_PER_DELIVERY = 2;
const DELIVERIES_PER_EVENT = 2;
const REQUESTS = 300;
const WARM = 30;

const dist = (p) => require(path.join(__dirname, '..', '..', 'dist', p));

/** SQL for a ULID of `kind` at `ms` (bigint) with `n` (bigint) as its random part: the same shape as newId. */
function ulidSql(kind, ms, n) {
  const A = "'0123456789ABCDEFGHJKMNPQRSTVWXYZ'";
  const time = Array.from({ length: 10 }, (_, i) => `substr(${A}, ((${ms} >> ${5 * (9 - i)}) & 31)::int + 1, 1)`);
  const rand = Array.from({ length: 12 }, (_, i) => `substr(${A}, ((${n} >> ${5 * (11 - i)}) & 31)::int + 1, 1)`);
  return `('${kind}_' || ${[...time, "'0000'", ...rand].join(' || ')})`;
}

function p99(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}

module.exports = {
  name: 'storage',
  needs: 'api',
  optIn: true,
  async run(ctx) {
    const attempts = Number(process.env.BENCH_STORAGE_ATTEMPTS) || (ctx.SMOKE ? 50_000 : 10_000_000);
    const deliveries = Math.floor(attempts / ATTEMPTS_PER_DELIVERY);
    const events = Math.floor(deliveries / DELIVERIES_PER_EVENT);
    const { createPartitionSql, partitionsBetween } = dist('database/partitions');
    const db = new Client({ connectionString: ctx.dbUrl() });
    await db.connect();
    try {
      ctx.log(`storage: loading ${attempts} attempts, ${deliveries} deliveries, ${events} events over ${DAYS} days (generate_series)`);
      const tenantId = ctx.tenant.id;
      const template = await ctx.endpoint('/storage', ['bench.storage'], { disabled: true });
      await db.query(
        `INSERT INTO endpoints (id, tenant_id, url, secret_sealed, retry_policy, disabled)
         SELECT 'ep_bench_storage_' || lpad(i::text, 5, '0'), tenant_id, url, secret_sealed, retry_policy, true FROM endpoints, generate_series(1, ${ENDPOINTS - 1}) i WHERE id = $1`,
        [template.id],
      );
      const endpointIds = [template.id, ...Array.from({ length: ENDPOINTS - 1 }, (_, i) => `ep_bench_storage_${String(i + 1).padStart(5, '0')}`)];
      const end = Date.now() - 60_000;
      const start = end - DAYS * 86_400_000;
      for (const table of ['events', 'deliveries', 'attempts']) {
        for (const p of partitionsBetween(table, new Date(start), new Date(end))) await db.query(createPartitionSql(p));
      }
      const step = (end - start) / events;
      const loadStart = Date.now();
      // Event i at start + i·step; its deliveries k at +1 ms, to endpoints (2i + k) mod ENDPOINTS; attempt j at +2+j ms.
      await db.query(
        `INSERT INTO events (id, tenant_id, event_type, payload, created_at)
         SELECT ${ulidSql('evt', 'ms', 'i')}, $1, 'bench.storage', '{"n":1}', to_timestamp(ms / 1000.0)
         FROM (SELECT i, (${start}::bigint + floor(i * ${step}))::bigint AS ms FROM generate_series(0::bigint, ${events - 1}::bigint) i) s`,
        [tenantId],
      );
      await db.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, last_status_code, created_at, updated_at)
         SELECT ${ulidSql('dlv', 'ms + 1', 'i * 2 + k')}, $1, ${ulidSql('evt', 'ms', 'i')}, ($2::text[])[((i * 2 + k) % ${ENDPOINTS}) + 1], 'bench.storage',
                CASE WHEN (i * 2 + k) % 50 = 0 THEN 'dead' ELSE 'succeeded' END, ${ATTEMPTS_PER_DELIVERY}, NULL, 'retry',
                CASE WHEN (i * 2 + k) % 50 = 0 THEN 500 ELSE 200 END, to_timestamp((ms + 1) / 1000.0), to_timestamp((ms + 3) / 1000.0)
         FROM (SELECT i, (${start}::bigint + floor(i * ${step}))::bigint AS ms FROM generate_series(0::bigint, ${events - 1}::bigint) i) s, generate_series(0, 1) k`,
        [tenantId, endpointIds],
      );
      await db.query(
        `INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code)
         SELECT ${ulidSql('att', 'ms + 2 + j', '(i * 2 + k) * 2 + j')}, ${ulidSql('dlv', 'ms + 1', 'i * 2 + k')}, ($1::text[])[((i * 2 + k) % ${ENDPOINTS}) + 1],
                j + 1, CASE WHEN j = 0 THEN 'initial' ELSE 'retry' END, to_timestamp((ms + 2 + j) / 1000.0), 20 + ((i * 7 + j * 13) % 200)::int,
                CASE WHEN j = 0 OR (i * 2 + k) % 50 = 0 THEN 500 ELSE 200 END
         FROM (SELECT i, (${start}::bigint + floor(i * ${step}))::bigint AS ms FROM generate_series(0::bigint, ${events - 1}::bigint) i) s, generate_series(0, 1) k, generate_series(0, 1) j`,
        [endpointIds],
      );
      await db.query('ANALYZE events, deliveries, attempts');
      const loadS = (Date.now() - loadStart) / 1000;
      const [{ n: loaded }] = (await db.query('SELECT count(*)::int AS n FROM attempts WHERE endpoint_id = ANY($1)', [endpointIds])).rows;
      ctx.log(`  loaded ${loaded} attempts in ${loadS.toFixed(1)} s`);
      if (loaded !== attempts - (attempts % (ATTEMPTS_PER_DELIVERY * DELIVERIES_PER_EVENT))) ctx.fail(`storage: ${loaded} attempts loaded, ${attempts} asked for`);

      const sample = (await db.query(`SELECT id, endpoint_id FROM deliveries WHERE tenant_id = $1 AND endpoint_id = ANY($2) ORDER BY random() LIMIT ${REQUESTS}`, [tenantId, endpointIds])).rows;
      const time = async (label, pathOf) => {
        const ms = [];
        for (let i = 0; i < WARM + REQUESTS; i++) {
          const t0 = performance.now();
          await ctx.call('GET', pathOf(i));
          if (i >= WARM) ms.push(performance.now() - t0);
        }
        const r = { p50: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)], p99: p99(ms) };
        ctx.log(`  ${label}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
        return r;
      };
      const routes = {
        dead: await time('deliveries, status=dead', () => `${ctx.t}/deliveries?status=dead&limit=50`),
        succeeded: await time('deliveries, status=succeeded', () => `${ctx.t}/deliveries?status=succeeded&limit=50`),
        attempts: await time('attempts of a delivery', (i) => `${ctx.t}/deliveries/${sample[i % sample.length].id}/attempts`),
        stats: await time('endpoint stats 24h/1h', (i) => `${ctx.t}/endpoints/${sample[i % sample.length].endpoint_id}/stats?window=24h&step=1h`),
      };

      // Retention of one day: a clock at which exactly the oldest loaded day is past the retention.
      const { DataSource } = require('typeorm');
      const { dataSourceOptions } = dist('database/data-source');
      const { RetentionPurge } = dist('deliveries/retention-purge');
      const tdb = new DataSource({ ...dataSourceOptions({ databaseUrl: ctx.dbUrl() }), logging: false });
      await tdb.initialize();
      let retention;
      try {
        const oldest = partitionsBetween('attempts', new Date(start), new Date(start))[0];
        const retentionDays = 30;
        const at = new Date(oldest.end.getTime() + retentionDays * 86_400_000 + 1000);
        const [{ n: dayRows }] = (await db.query(`SELECT count(*)::int AS n FROM "${oldest.name}"`)).rows;
        const t0 = performance.now();
        const result = await new RetentionPurge(tdb, { retentionDays }).purge(at);
        retention = { ms: performance.now() - t0, dropped: result.dropped, kept: result.kept, dayRows };
        ctx.log(`  retention of ${oldest.name} (${dayRows} attempts): ${retention.ms.toFixed(0)} ms, dropped ${result.dropped.join(', ')}`);
        if (result.dropped.length !== 3) ctx.fail(`storage: retention dropped ${result.dropped.join(', ') || 'nothing'}, expected the oldest day of the three tables`);
      } finally {
        await tdb.destroy();
      }
      ctx.results.herald.storage = { attempts: loaded, deliveries, events, days: DAYS, endpoints: ENDPOINTS, loadS, routes, retention };
    } finally {
      await db.end();
    }
  },
  rows(ctx) {
    const r = ctx.results.herald.storage;
    if (!r) return [];
    const size = `${(r.attempts / 1e6).toFixed(r.attempts >= 1e6 ? 0 : 2)} M attempts, ${r.days} days, ${r.endpoints} endpoints`;
    const route = (label, key) =>
      row(`storage (${size}): ${label}, p50 / p99`, num('ms', [r.routes[key].p50, r.routes[key].p99]), '', '', 'p99 < 50 ms', ctx.target(`storage ${key} p99 < 50 ms`, r.routes[key].p99 < 50, r.routes[key].p99));
    return [
      row(`storage: loaded ${size} (generate_series)`, num('dec', r.loadS, 's')),
      route('deliveries by status (dead)', 'dead'),
      route('deliveries by status (succeeded)', 'succeeded'),
      route('attempts of a delivery', 'attempts'),
      route('endpoint stats 24h by hour', 'stats'),
      row(`storage (${size}): retention of a day (${r.retention.dayRows} attempts)`, num('ms', r.retention.ms), '', '', '< 1 s', ctx.target('storage retention of a day < 1 s', r.retention.ms < 1000, r.retention.ms)),
    ];
  },
};
