'use strict';
// The ceilings: what Herald's parts do alone on this machine with Herald's settings, measured before
// Herald starts, each as a maximum and (bare route, Bull, undici) as a knee found the way Herald's is.
const path = require('node:path');
const { spawnNode, waitFor, fmt } = require('../lib');
const { num, row } = require('../report');
const { KNEE_START } = require('../knee');
const { beyondGenerator } = require('./generator');

module.exports = {
  name: 'ceilings',
  needs: 'none',
  async run(ctx) {
    const { P, results } = ctx;
    const c = results.ceilings;
    const kneeOf = (max) => ({ startRate: max * KNEE_START, p99Ms: P.kneeP99Ms, maxSteps: P.kneeMaxSteps });

    ctx.log('ceiling: bare NestJS/Fastify route');
    const bare = spawnNode(path.join(__dirname, '..', 'bare-nest.js'), { env: { PORT: String(ctx.PORTS.bare), NODE_ENV: 'production' }, name: 'bare-nest' });
    ctx.procs.bare = bare;
    await waitFor('the bare Nest app', () => {
      if (!bare.alive()) throw new Error(bare.output());
      return bare.output().includes('ready');
    }, 30000, 50);
    const origin = `http://127.0.0.1:${ctx.PORTS.bare}`;
    const route = '/v1/tenants/bench/events';
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${ctx.ADMIN_KEY}` };
    const body = ctx.ingestBody('bench.ingest');
    const closed = (durationS) => ctx.measure('closed', { load: { url: origin + route, connections: P.ingestConns, durationS, headers, body } });
    await closed(P.warmS);
    const max = await closed(P.measureS);
    const at80 = await ctx.measure('open', { load: { origin, path: route, rate: max.rate * 0.8, durationMs: P.measureS * 1000, headers, body: { fixed: body } } });
    delete at80.ids;
    ctx.log(`  ${fmt.int(max.rate)} req/s (p99 ${fmt.ms(max.latency.p99)}); at 80 %: p50 ${fmt.ms(at80.latency.p50)} p99 ${fmt.ms(at80.latency.p99)}`);
    ctx.log(`  knee (open loop, ${P.kneeStepS} s steps, p99 ≤ ${P.kneeP99Ms} ms):`);
    const knee = await ctx.measure('knee', { load: { origin, path: route, headers, body: { fixed: body } }, stepMs: P.kneeStepS * 1000, knee: kneeOf(max.rate) });
    await bare.stop();
    c.bareNest = { max, at80 };
    results.knees.bareNest = knee;

    const payload = JSON.stringify({ t: Date.now(), seq: 1, pad: ctx.PAD });
    ctx.log('ceiling: PostgreSQL unnest inserts (event + delivery rows, groups of 100, 2 commits in flight)');
    c.pg = await ctx.measure('pgInsert', { args: { url: ctx.dbUrl(), durationMs: P.pgMs, batch: 100, conns: 2, payload } });
    ctx.log(`  ${fmt.int(c.pg.rowsPerSecond)} events/s (commit p50 ${fmt.ms(c.pg.commitLatency.p50)})`);
    // single-event ingest shares commits among the requests in flight: about half of them per commit, two commits at once
    const group = Math.max(1, Math.round(P.ingestConns / 2));
    c.pgGroup = await ctx.measure('pgInsert', { args: { url: ctx.dbUrl(), durationMs: P.pgMs / 2, batch: group, conns: 2, payload } });
    ctx.log(`  groups of ${group} (single-event ingest's share): ${fmt.int(c.pgGroup.rowsPerSecond)} events/s`);
    c.pgSingle = await ctx.measure('pgInsert', { args: { url: ctx.dbUrl(), durationMs: P.pgMs / 2, batch: 1, conns: 2, payload } });
    ctx.log(`  one event per commit: ${fmt.int(c.pgSingle.rowsPerSecond)} events/s`);
    ctx.log('ceiling: attempt writes (delivery update + attempt row, groups of 50, 2 in flight)');
    c.attemptWrite = await ctx.measure('attemptWrite', { args: { url: ctx.dbUrl(), durationMs: P.pgMs / 2, group: 50, conns: 2 } });
    ctx.log(`  ${fmt.int(c.attemptWrite.rowsPerSecond)} attempts/s`);

    ctx.log(`ceiling: Bull addBulk + no-op processing (${P.shards} shards, concurrency ${P.concurrency}, ${P.bullJobs} jobs)`);
    c.bull = await ctx.measure('bull', { args: { redisUrl: ctx.REDIS_URL, prefix: ctx.CEILING_PREFIX, shards: P.shards, jobs: P.bullJobs, concurrency: P.concurrency } });
    ctx.log(`  add ${fmt.int(c.bull.addPerSecond)} jobs/s, process ${fmt.int(c.bull.processPerSecond)} jobs/s; knee (add → processed):`);
    results.knees.bull = await ctx.measure('bullKnee', {
      args: { redisUrl: ctx.REDIS_URL, prefix: ctx.CEILING_PREFIX, shards: P.shards, concurrency: P.concurrency },
      stepMs: P.kneeStepS * 1000,
      knee: kneeOf(Math.min(c.bull.addPerSecond, c.bull.processPerSecond)),
    });

    ctx.log(`ceiling: undici POST 1 KB to the receiver, keep-alive, ${P.concurrency} in flight`);
    const url = `http://127.0.0.1:${ctx.PORTS.receiver}/ceiling`;
    c.undici = await ctx.measure('undici', { args: { url, durationMs: P.undiciMs, concurrency: P.concurrency, body: JSON.stringify({ pad: ctx.PAD }) } });
    ctx.log(`  ${fmt.int(c.undici.perSecond)} req/s; knee (open loop, no cap in flight):`);
    results.knees.undici = await ctx.measure('undiciKnee', { args: { url, body: JSON.stringify({ pad: ctx.PAD }) }, stepMs: P.kneeStepS * 1000, knee: kneeOf(c.undici.perSecond) });
    await ctx.rx.reset('ceiling');
  },
  rows(ctx) {
    const { ceilings: c, knees: k } = ctx.results;
    const rows = [];
    if (c.bull) rows.push(row('(ceiling) Bull addBulk', '', num('int', c.bull.addPerSecond, 'jobs/s')));
    if (c.pgSingle) rows.push(row('(ceiling) PG, one event per commit', '', num('int', c.pgSingle.rowsPerSecond, 'ev/s')));
    if (c.pgGroup) rows.push(row(`(ceiling) PG, ${c.pgGroup.batch} events per commit`, '', num('int', c.pgGroup.rowsPerSecond, 'ev/s')));
    if (c.attemptWrite) rows.push(row('(ceiling) attempt writes, groups of 50', '', num('int', c.attemptWrite.rowsPerSecond, 'attempts/s')));
    const knee = (name, r, unit) => r && rows.push(row(`(knee) ${name}: p99 ≤ ${r.p99Ms} ms for ${ctx.P.kneeStepS} s${name === 'bare Nest route' ? beyondGenerator(ctx, r.knee) : ''}`, '', num('int', r.knee, unit)));
    knee('bare Nest route', k.bareNest, 'req/s');
    knee('Bull add → processed', k.bull, 'jobs/s');
    knee('undici POST', k.undici, 'req/s');
    return rows;
  },
};
