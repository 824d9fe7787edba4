'use strict';
// The worker's drain: a backlog queued with the worker stopped, then the worker started; the same again
// with a rate limit the endpoints never reach (the limiter's own cost); the composed drain ceiling.
const { wallNow, waitFor, fmt } = require('../lib');
const { num, row } = require('../report');
const { composed } = require('./ingest');

/** A rate limit far above what one box can deliver: measures the limiter's own cost. */
const NON_BINDING_LIMIT = 100000;

module.exports = {
  name: 'drain',
  needs: 'api',
  async run(ctx) {
    const { P, results, rx } = ctx;
    const drainSet = await ctx.endpointSet('drain');
    const drainType = (i) => drainSet[i % drainSet.length].type;
    ctx.log(`drain: queueing ${P.drain} deliveries, worker stopped`);
    const queued = await ctx.publishBatches('drain', P.drain, drainType);
    if (queued !== P.drain) ctx.fail(`drain: ${queued} deliveries created for ${P.drain} events`);
    await waitFor(`${P.drain} jobs in Redis`, async () => (await ctx.waiting()) >= P.drain, 20000).catch((e) => ctx.fail(`drain: ${e.message}`));
    ctx.log('  starting the worker');
    const spawnedAt = wallNow();
    await ctx.startWorker();
    const readyAt = wallNow();
    await ctx.profile('worker', 'start');
    const done = await ctx.waitUntil(() => rx.stats('drain'), (s) => s.unique >= P.drain, Math.max(P.settleMs, P.drain * 2));
    await ctx.profile('worker', 'stop', 'worker-drain');
    const drainRate = done.unique / ((done.last - done.first) / 1000);
    results.herald.drain = {
      deliveries: P.drain,
      endpoints: drainSet.length,
      received: done.unique,
      duplicates: done.duplicates,
      perSecond: drainRate,
      perSecondFromWorkerReady: done.unique / ((done.last - readyAt) / 1000),
      workerStartMs: readyAt - spawnedAt,
    };
    ctx.log(`  ${fmt.int(drainRate)} deliveries/s (${done.unique}/${P.drain} received in ${((done.last - done.first) / 1000).toFixed(1)} s; worker boot ${fmt.int(readyAt - spawnedAt)} ms)`);
    if (done.unique < P.drain) ctx.fail(`drain: only ${done.unique} of ${P.drain} deliveries received`);
    const c = results.ceilings;
    results.composed.drain = { perSecond: composed(c.bull?.processPerSecond, c.undici?.perSecond, c.attemptWrite?.rowsPerSecond), parts: { bullProcess: c.bull?.processPerSecond, undici: c.undici?.perSecond, attemptWrite: c.attemptWrite?.rowsPerSecond } };

    ctx.log(`rate-limit overhead: the drain again, each endpoint limited to ${fmt.int(NON_BINDING_LIMIT)}/s (never binding)`);
    await ctx.stopWorker();
    for (const e of drainSet) await ctx.call('PATCH', `${ctx.t}/endpoints/${e.id}`, { rateLimitPerSecond: NON_BINDING_LIMIT });
    await rx.reset('drain');
    await ctx.publishBatches('limited drain', P.drain, drainType);
    await ctx.startWorker();
    const limited = await ctx.waitUntil(() => rx.stats('drain'), (st) => st.unique >= P.drain, Math.max(P.settleMs, P.drain * 2));
    const rate = limited.unique / ((limited.last - limited.first) / 1000);
    results.herald.rateLimitOverhead = { limitPerSecond: NON_BINDING_LIMIT, deliveries: P.drain, received: limited.unique, perSecond: rate, unlimitedPerSecond: drainRate, ratio: rate / drainRate };
    ctx.log(`  ${fmt.int(rate)} deliveries/s limited vs ${fmt.int(drainRate)} unlimited (${fmt.pct(rate / drainRate)})`);
    if (limited.unique < P.drain) ctx.fail(`rate-limit overhead: only ${limited.unique} of ${P.drain} deliveries received`);
    for (const e of drainSet) await ctx.call('PATCH', `${ctx.t}/endpoints/${e.id}`, { rateLimitPerSecond: null });
  },
  rows(ctx) {
    const { ceilings: c, herald: h, composed: comp } = ctx.results;
    const rows = [];
    const ratio = (a, b) => (a && b ? a / b : null);
    if (h.drain) {
      const r = ratio(h.drain.perSecond, c.bull?.processPerSecond);
      rows.push(row(`drain (${fmt.int(h.drain.deliveries)} queued, ${h.drain.endpoints} endpoints)`, num('int', h.drain.perSecond, 'dlv/s'), num('int', c.bull?.processPerSecond, 'jobs/s Bull no-op'), num('pct', r), '≥ 40 %', ctx.target('drain ≥ 40 % of Bull no-op', r >= 0.4, r)));
      rows.push(row('', '', num('int', c.undici?.perSecond, 'req/s undici'), num('pct', ratio(h.drain.perSecond, c.undici?.perSecond))));
      rows.push(row('', '', num('int', c.attemptWrite?.rowsPerSecond, 'attempts/s written'), num('pct', ratio(h.drain.perSecond, c.attemptWrite?.rowsPerSecond))));
      const rc = ratio(h.drain.perSecond, comp.drain?.perSecond);
      rows.push(row('  vs composed drain ceiling (Bull processing + undici + attempt write)', '', num('int', comp.drain?.perSecond, 'dlv/s composed'), num('pct', rc), '≥ 60 %', ctx.target('drain ≥ 60 % of the composed ceiling', rc !== null && rc >= 0.6, rc)));
    }
    if (h.rateLimitOverhead) {
      const o = h.rateLimitOverhead;
      rows.push(row(`  same drain, endpoints limited to ${fmt.int(o.limitPerSecond)}/s`, num('int', o.perSecond, 'dlv/s'), num('int', o.unlimitedPerSecond, 'dlv/s unlimited'), num('pct', o.ratio), 'limiter cost < 10 %', ctx.target('rate-limit check costs < 10 % of drain', o.ratio >= 0.9, o.ratio)));
    }
    return rows;
  },
};
