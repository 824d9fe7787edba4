'use strict';
// The console's metrics API (issue 16 §4) with a day of attempts for a busy endpoint (the only one of its tenant): 1 M attempts (of 200 000
// deliveries, 5 attempts each) spread over the last 24 h for one endpoint, loaded with SQL (generate_series,
// ids made as Herald makes them: prefixed, time-sorted ULIDs). Then GET …/endpoints/{e}/stats?window=24h&step=1h
// and the tenant's GET …/stats?window=24h&step=1h, one request at a time (a console user), p50 / p99.
const { Client } = require('pg');
const { wallNow, fmt } = require('../lib');
const { num, row } = require('../report');

/** A prefixed ULID from a time in ms and a counter, in SQL (Crockford base 32; hex digits are Crockford digits). */
const ULID_FN = `CREATE FUNCTION pg_temp.bench_id(kind text, ms bigint, n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT kind || '_' ${Array.from({ length: 10 }, (_, i) => `|| substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((ms >> ${5 * (9 - i)}) & 31)::int + 1, 1)`).join(' ')}
    || lpad(upper(to_hex(n)), 16, '0')
$$`;

async function seed(ctx, tenantId, endpointId, { attempts, perDelivery }) {
  const db = new Client({ connectionString: ctx.dbUrl() });
  await db.connect();
  try {
    await db.query(ULID_FN);
    const deliveries = Math.ceil(attempts / perDelivery);
    const t0 = wallNow();
    const dayMs = 24 * 3600 * 1000;
    // delivery d (and its event) is created at now − 24 h + d × (24 h / deliveries); its attempts follow, 1 s apart
    const src = `(SELECT d, ($3::bigint - $4::bigint + d * ($4::bigint / $2::bigint)) AS m FROM generate_series(0, $2::bigint - 1) AS d) s`;
    const base = [deliveries, Math.round(wallNow()) - 60000, dayMs];
    await db.query(
      `INSERT INTO events (id, tenant_id, event_type, payload, created_at)
       SELECT pg_temp.bench_id('evt', m, d), $1, 'bench.stats', '{"seeded":true}', to_timestamp(m / 1000.0) FROM ${src}`,
      [tenantId, ...base],
    );
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, last_status_code, created_at, updated_at)
       SELECT pg_temp.bench_id('dlv', m, d), $1, pg_temp.bench_id('evt', m, d), $5, 'bench.stats',
              CASE WHEN d % 50 = 0 THEN 'dead' ELSE 'succeeded' END, ${perDelivery}, CASE WHEN d % 50 = 0 THEN 500 ELSE 200 END,
              to_timestamp(m / 1000.0), to_timestamp(m / 1000.0)
       FROM ${src}`,
      [tenantId, ...base, endpointId],
    );
    // attempts (a delivery's share one time, that of its last attempt's start: an attempt's id is made after it
    // started, which the stats' partition bounds rely on): the last of each delivery succeeds (but for the dead ones); latency 20–400 ms, 1 % in a tail to 3 s
    await db.query(
      `INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, error)
       SELECT att || lpad(upper(to_hex(d * ${perDelivery} + k)), 16, '0'), dlv, $1, k + 1,
              CASE WHEN k = 0 THEN 'initial' ELSE 'retry' END, to_timestamp((m + k * 1000) / 1000.0),
              CASE WHEN random() < 0.01 THEN 400 + (random() * 2600)::int ELSE 20 + (random() * 380)::int END,
              CASE WHEN k = ${perDelivery - 1} AND d % 50 <> 0 THEN 200 ELSE 500 END, NULL
       FROM (SELECT d, m, pg_temp.bench_id('dlv', m, d) AS dlv, left(pg_temp.bench_id('att', m + ${(perDelivery - 1) * 1000}, 0), 14) AS att FROM ${src}) s2,
            generate_series(0, ${perDelivery - 1}) AS k`,
      [endpointId, ...base],
    );
    // what autovacuum would have done over such a day (statistics, the visibility map)
    await db.query('VACUUM ANALYZE events, deliveries, attempts');
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM attempts WHERE endpoint_id = $1', [endpointId])).rows;
    return { attempts: n, deliveries, seedS: (wallNow() - t0) / 1000 };
  } finally {
    await db.end();
  }
}

/** The seeded attempts inside the window the series answered for (its start is aligned to the step). */
async function countInWindow(ctx, endpointId, series) {
  const db = new Client({ connectionString: ctx.dbUrl() });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM attempts WHERE endpoint_id = $1 AND started_at >= $2 AND started_at < $3', [endpointId, series?.from, series?.to]);
    return rows[0].n;
  } finally {
    await db.end();
  }
}

module.exports = {
  name: 'stats',
  needs: 'api',
  seed,
  async run(ctx) {
    const { results } = ctx;
    const attempts = ctx.SMOKE ? 20000 : 1000000;
    // a tenant of its own, so that the per-tenant route reads this endpoint's day and not the other scenarios' traffic
    const own = await ctx.call('POST', '/v1/tenants', { name: 'bench-stats' });
    const t = `/v1/tenants/${own.id}`;
    const ep = await ctx.call('POST', `${t}/endpoints`, { url: ctx.rurl('/statsep/0'), eventTypes: ['bench.stats'] });
    ctx.state.endpointIds.push(ep.id);
    ctx.log(`stats: seeding ${fmt.int(attempts)} attempts over the last 24 h for one endpoint (SQL)`);
    const seeded = await seed(ctx, own.id, ep.id, { attempts, perDelivery: 5 });
    ctx.log(`  ${fmt.int(seeded.attempts)} attempts of ${fmt.int(seeded.deliveries)} deliveries in ${seeded.seedS.toFixed(1)} s`);
    const durationS = ctx.SMOKE ? 2 : 10;
    const get = (p) => ctx.measure('closed', { load: { url: ctx.api + p, method: 'GET', connections: 1, durationS, headers: ctx.auth } });
    const endpointPath = `${t}/endpoints/${ep.id}/stats?window=24h&step=1h`;
    const tenantPath = `${t}/stats?window=24h&step=1h`;
    // the answer is right before it is timed: a day of points holding the seeded attempts. This first request
    // also rolls the day up (10-minute granules, once): its time is reported apart
    let t0 = wallNow();
    const answer = await ctx.call('GET', endpointPath);
    const firstMs = wallNow() - t0;
    t0 = wallNow();
    await ctx.call('GET', tenantPath);
    const tenantFirstMs = wallNow() - t0;
    const seen = answer.series?.total?.attempts;
    const inWindow = await countInWindow(ctx, ep.id, answer.series);
    if (seen !== inWindow) ctx.fail(`stats: the endpoint's series counts ${seen} attempts, ${inWindow} seeded in its window`);
    await get(endpointPath); // warm
    const endpoint = await get(endpointPath);
    const tenant = await get(tenantPath);
    for (const [what, r] of [['endpoint', endpoint], ['tenant', tenant]]) if (r.non2xx || r.errors || !r.ok) ctx.fail(`stats (${what}): ${r.non2xx} non-2xx, ${r.errors} errors, ${r.ok} answered`);
    results.herald.stats = { ...seeded, points: answer.series?.points?.length, firstMs, tenantFirstMs, endpoint, tenant };
    ctx.log(`  first requests (the day rolled up): endpoint ${fmt.ms(firstMs)}, tenant ${fmt.ms(tenantFirstMs)}`);
    ctx.log(`  endpoint stats p50 ${fmt.ms(endpoint.latency.p50)}, p99 ${fmt.ms(endpoint.latency.p99)} (${endpoint.ok} requests); tenant stats p50 ${fmt.ms(tenant.latency.p50)}, p99 ${fmt.ms(tenant.latency.p99)} (${tenant.ok})`);
  },
  rows(ctx) {
    const s = ctx.results.herald.stats;
    if (!s) return [];
    const size = `${fmt.int(s.attempts)} attempts / 24 h`;
    return [
      row(`stats API, endpoint, 24 h by 1 h (${size}): p50 / p99`, num('ms', [s.endpoint.latency.p50, s.endpoint.latency.p99]), '', '', 'p99 < 50 ms', ctx.target('endpoint stats p99 < 50 ms', s.endpoint.latency.p99 < 50, s.endpoint.latency.p99)),
      row(`stats API, tenant, 24 h by 1 h (${size}): p50 / p99`, num('ms', [s.tenant.latency.p50, s.tenant.latency.p99]), '', '', 'p99 < 50 ms', ctx.target('tenant stats p99 < 50 ms', s.tenant.latency.p99 < 50, s.tenant.latency.p99)),
      row('  first request, rolling the day up: endpoint / tenant', num('ms', [s.firstMs, s.tenantFirstMs])),
    ];
  },
};
