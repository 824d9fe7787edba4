'use strict';
// Payload filters (issue 14 §1): batch ingest fanning out to 50 endpoints that carry filters against the
// same batch ingest to 50 endpoints without, in the same run, worker stopped. The filters all hold for the
// published events, so both sides create the same deliveries and the difference is the filters' own cost
// (compiled once per endpoint and cached, evaluated for every event × endpoint).
const { sleep, deleteKeys, fmt } = require('../lib');
const { num, row } = require('../report');

/** A filter of the kind a user writes: nested paths, a range, a set, a prefix, an $or; it holds for every bench event. */
const FILTER = {
  $eventType: { $startsWith: 'bench.fanf' },
  data: { amount: { $gte: 100, $lt: 1000000 }, currency: { $in: ['EUR', 'USD', 'GBP'] }, customer: { tier: { $nin: ['blocked'] } } },
  $or: [{ data: { country: { $eq: 'FR' } } }, { data: { flags: { vip: { $exists: true } } } }],
};

module.exports = {
  name: 'filters',
  needs: 'api',
  FILTER,
  async run(ctx) {
    const { P, results } = ctx;
    // deliveries must not be sent: this scenario wants the worker stopped (it is before the drain in index.js)
    if (ctx.procs.worker && ctx.procs.worker.alive()) await ctx.stopWorker();
    const endpoints = P.fanoutEndpoints;
    const plain = [];
    const filtered = [];
    for (let i = 0; i < endpoints; i++) plain.push(await ctx.endpoint(`/fanp/${i}`, ['bench.fanp']));
    for (let i = 0; i < endpoints; i++) filtered.push(await ctx.endpoint(`/fanf/${i}`, ['bench.fanf'], { filter: FILTER }));
    // one request: checks that the filter holds (same deliveries on both sides), so the comparison is fair
    const probe = await ctx.call('POST', `${ctx.t}/endpoints/${filtered[0].id}/filter/test`, { eventType: 'bench.fanf', payload: payload(0) });
    if (!probe.matches) throw new Error(`filters: the bench filter does not hold for the bench events (${JSON.stringify(probe)})`);

    // 500 deliveries a request: many requests per step, each still a batch
    const batchSize = Math.max(1, Math.floor(500 / endpoints));
    const body = (type) => JSON.stringify({ events: Array.from({ length: batchSize }, (_, i) => ({ eventType: type, payload: payload(i) })) });
    const url = `${ctx.api}${ctx.t}/events/batch`;
    const closed = (type, durationS) => ctx.measure('closed', { load: { url, connections: P.batchConns, durationS, headers: ctx.jsonHeaders, body: body(type) } });
    const stepS = ctx.SMOKE ? 1 : 5;
    ctx.log(`filters: batch ingest (${batchSize} events/request, ${P.batchConns} connections) fanning out to ${endpoints} endpoints with filters vs ${endpoints} without, in mirrored pairs (A B B A), ${stepS} s each`);
    await closed('bench.fanp', 1);
    await closed('bench.fanf', 1);
    // A B B A, twice: the tables grow with every window (the worker is stopped), so a plain order would hand
    // the later side a slower machine; mirrored pairs put a steady drift on both sides equally.
    const sides = { plain: [], filtered: [] };
    for (let round = 0; round < 4; round++) {
      const order = round % 2 === 0 ? ['plain', 'filtered'] : ['filtered', 'plain'];
      for (const side of order) sides[side].push(await closed(side === 'plain' ? 'bench.fanp' : 'bench.fanf', stepS));
    }
    const rate = (rs) => (rs.reduce((n, r) => n + r.ok, 0) * batchSize) / rs.reduce((n, r) => n + r.durationS, 0);
    const bad = [...sides.plain, ...sides.filtered].reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (bad) ctx.fail(`filters: ${bad} requests failed`);
    const f = {
      endpoints,
      batchSize,
      plainEventsPerSecond: rate(sides.plain),
      filteredEventsPerSecond: rate(sides.filtered),
      plainP99: Math.max(...sides.plain.map((r) => r.latency.p99)),
      filteredP99: Math.max(...sides.filtered.map((r) => r.latency.p99)),
    };
    f.cost = 1 - f.filteredEventsPerSecond / f.plainEventsPerSecond;
    results.herald.filters = f;
    ctx.log(`  ${fmt.int(f.filteredEventsPerSecond)} events/s (${fmt.int(f.filteredEventsPerSecond * endpoints)} deliveries/s) with filters, ${fmt.int(f.plainEventsPerSecond)} without: filters cost ${fmt.pct(f.cost)}`);

    // none of these deliveries is to be sent: dead-letter them (delete the endpoints) and drop their jobs
    for (const e of [...plain, ...filtered]) await ctx.call('DELETE', `${ctx.t}/endpoints/${e.id}`);
    await sleep(500); // the enqueues that follow the last commits
    const dropped = await deleteKeys(ctx.redis, `${ctx.PREFIX}:*`);
    ctx.log(`  (fan-out deliveries dead-lettered; ${dropped} queue keys dropped)`);
  },
  rows(ctx) {
    const f = ctx.results.herald.filters;
    if (!f) return [];
    return [
      row(
        `fan-out to ${f.endpoints} endpoints with filters: batch ingest (${f.batchSize}/request)`,
        num('int', f.filteredEventsPerSecond, 'ev/s'),
        num('int', f.plainEventsPerSecond, 'ev/s without filters'),
        num('pct', f.cost),
        'cost < 10 %',
        ctx.target('filters cost < 10 % of batch ingest (50 endpoints)', f.cost < 0.1, f.cost),
      ),
      row('  request p99 with / without filters', num('ms', [f.filteredP99, f.plainP99])),
    ];
  },
};

function payload(i) {
  return { t: 0, seq: i, data: { amount: 100 + i * 7, currency: 'EUR', customer: { id: `cus_${i}`, tier: 'gold' }, country: 'FR', flags: {} }, pad: 'x'.repeat(600) };
}
