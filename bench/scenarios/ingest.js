'use strict';
// Publishing, with the worker stopped: single-event ingest (closed-loop max, open loop at 80 %, the
// sustained knee), batch ingest, and the composed ceiling of the parts on the ingest path.
const { sleep, deleteKeys, fmt } = require('../lib');
const { num, row } = require('../report');
const { KNEE_START } = require('../knee');
const { beyondGenerator } = require('./generator');
const { startCpu, describeCpu, cpuRow } = require('../cpu');
const { commitNote, commitRows } = require('../commit-probe');

/** 1 / Σ(1/ceiling): the most a path made of these parts in series can do. */
const composed = (...parts) => (parts.every((p) => p > 0) ? 1 / parts.reduce((s, p) => s + 1 / p, 0) : null);

module.exports = {
  name: 'ingest',
  needs: 'api',
  composed,
  async run(ctx) {
    const { P, results } = ctx;
    const ingestEp = await ctx.endpoint('/ingest', ['bench.ingest']);
    const body = ctx.ingestBody('bench.ingest');
    const route = `${ctx.t}/events`;
    const url = ctx.api + route;
    log(ctx, `ingest: single-event POST ${route}, closed loop ${P.ingestConns} connections, then open loop at 80 %`);
    const closed = (durationS, b = body, u = url, connections = P.ingestConns) => ctx.measure('closed', { load: { url: u, connections, durationS, headers: ctx.jsonHeaders, body: b } });
    await closed(P.warmS);
    await ctx.profile('api', 'start');
    const max = await closed(P.measureS);
    const cpuOf = startCpu(ctx);
    const at80 = await ctx.measure('open', { load: { origin: ctx.api, path: route, rate: max.rate * 0.8, durationMs: P.measureS * 1000, headers: ctx.jsonHeaders, body: { fixed: body } }, commitProbe: ctx.dbUrl() });
    at80.cpu = cpuOf();
    await ctx.profile('api', 'stop', 'api-ingest');
    delete at80.ids;
    results.herald.ingest = { max, at80 };
    log(ctx, `  max ${fmt.int(max.rate)} events/s (p50 ${fmt.ms(max.latency.p50)}, p99 ${fmt.ms(max.latency.p99)}); at 80 % (${fmt.int(at80.achievedRate)}/s): p50 ${fmt.ms(at80.latency.p50)}, p99 ${fmt.ms(at80.latency.p99)}; ${commitNote(at80.commits)}; CPU: ${describeCpu(at80.cpu)}`);
    if (max.non2xx || max.errors) ctx.fail(`ingest: ${max.non2xx} non-2xx answers, ${max.errors} errors`);
    if (at80.failed) ctx.fail(`ingest at 80 %: ${at80.failed} requests failed ${JSON.stringify({ statuses: at80.statuses, errors: at80.errors })}`);

    if (process.env.BENCH_SKIP_INGEST_KNEE) {
      log(ctx, 'sustained ingest: skipped (BENCH_SKIP_INGEST_KNEE)');
    } else {
      log(ctx, `sustained ingest: open loop stepped up from 60 % of the max, ${P.kneeStepS} s per step, until p99 > ${P.kneeP99Ms} ms`);
      results.knees.ingest = await ctx.measure('knee', {
        load: { origin: ctx.api, path: route, headers: ctx.jsonHeaders, body: { fixed: body } },
        commitProbe: ctx.dbUrl(),
        stepMs: P.kneeStepS * 1000,
        knee: { startRate: max.rate * KNEE_START, p99Ms: P.kneeP99Ms, maxSteps: P.kneeMaxSteps },
      });
    }
    const c = results.ceilings;
    results.composed.ingest = { perSecond: composed(c.bareNest?.max.rate, c.pgGroup?.rowsPerSecond, c.bull?.addPerSecond), parts: { bareNest: c.bareNest?.max.rate, pgGroup: c.pgGroup?.rowsPerSecond, bullAdd: c.bull?.addPerSecond } };
    results.composed.ingestKnee = { perSecond: composed(results.knees.bareNest?.knee, c.pgGroup?.rowsPerSecond, results.knees.bull?.knee) };

    log(ctx, `batch ingest: POST ${route}/batch of ${P.batchSize}, closed loop ${P.batchConns} connections`);
    const batchBody = JSON.stringify({ events: Array.from({ length: P.batchSize }, (_, i) => ({ eventType: 'bench.ingest', payload: { t: 0, seq: i, pad: ctx.PAD } })) });
    await closed(P.warmS, batchBody, `${url}/batch`, P.batchConns);
    await ctx.profile('api', 'start');
    const batch = await closed(P.measureS, batchBody, `${url}/batch`, P.batchConns);
    await ctx.profile('api', 'stop', 'api-batch');
    results.herald.batch = { ...batch, eventsPerSecond: batch.rate * P.batchSize };
    log(ctx, `  ${fmt.int(results.herald.batch.eventsPerSecond)} events/s (request p50 ${fmt.ms(batch.latency.p50)}, p99 ${fmt.ms(batch.latency.p99)})`);
    if (batch.non2xx || batch.errors) ctx.fail(`batch: ${batch.non2xx} non-2xx answers, ${batch.errors} errors`);

    // The ingest deliveries must not be drained later: dead-letter them (delete the endpoint) and drop their jobs.
    await ctx.call('DELETE', `${ctx.t}/endpoints/${ingestEp.id}`);
    await sleep(500); // the enqueues that follow the last commits
    const dropped = await deleteKeys(ctx.redis, `${ctx.PREFIX}:*`);
    log(ctx, `  (ingest deliveries dead-lettered; ${dropped} queue keys dropped)`);
  },
  rows(ctx) {
    const { ceilings: c, herald: h, knees: k, composed: comp } = ctx.results;
    const rows = [];
    const target = (name, ok, detail) => ctx.target(name, ok, detail);
    const ratio = (a, b) => (a && b ? a / b : null);
    if (h.ingest) {
      const r = ratio(h.ingest.max.rate, c.bareNest?.max.rate);
      rows.push(row(`ingest, single event (max, closed loop)${beyondGenerator(ctx, h.ingest.max.rate)}`, num('int', h.ingest.max.rate, 'ev/s'), num('int', c.bareNest?.max.rate, 'req/s bare Nest'), num('pct', r), '≥ 35 %', target('ingest ≥ 35 % of bare Nest', r >= 0.35, r)));
      rows.push(row('  latency p50 / p99 at max', num('ms', [h.ingest.max.latency.p50, h.ingest.max.latency.p99]), num('ms', [c.bareNest?.max.latency.p50, c.bareNest?.max.latency.p99])));
      rows.push(row(`  latency p50 / p99 at 80 % (open loop)${beyondGenerator(ctx, h.ingest.at80.rate)}`, num('ms', [h.ingest.at80.latency.p50, h.ingest.at80.latency.p99]), num('ms', [c.bareNest?.at80.latency.p50, c.bareNest?.at80.latency.p99]), '', 'p99 ≤ 50 ms', target('ingest p99 ≤ 50 ms at 80 %', h.ingest.at80.latency.p99 <= 50, h.ingest.at80.latency.p99)));
      rows.push(...commitRows(h.ingest.at80.commits));
      rows.push(cpuRow(h.ingest.at80.cpu, 'at 80 %'));
      if (comp.ingest?.perSecond) {
        const rc = ratio(h.ingest.max.rate, comp.ingest.perSecond);
        rows.push(row('  max vs composed ceiling (Nest route + PG group share + addBulk)', num('int', h.ingest.max.rate, 'ev/s'), num('int', comp.ingest.perSecond, 'ev/s composed'), num('pct', rc)));
      }
    }
    if (k.ingest) {
      const knee = k.ingest.knee;
      const note = knee === null ? ` [no step held; lowest tried ${Math.min(...k.ingest.steps.map((s) => s.rate))}/s]` : beyondGenerator(ctx, knee);
      const rBare = ratio(knee, k.bareNest?.knee);
      rows.push(row(`sustained ingest: knee, p99 ≤ ${k.ingest.p99Ms} ms for ${ctx.P.kneeStepS} s${note}`, num('int', knee, 'ev/s'), num('int', k.bareNest?.knee, 'req/s bare Nest knee'), num('pct', rBare), '≥ 60 %', target('sustained ingest ≥ 60 % of the bare route\'s knee', rBare !== null && rBare >= 0.6, rBare)));
      const rComp = ratio(knee, comp.ingest?.perSecond);
      rows.push(row('  vs composed ingest ceiling', '', num('int', comp.ingest?.perSecond, 'ev/s composed'), num('pct', rComp), '≥ 50 %', target('sustained ingest ≥ 50 % of the composed ceiling', rComp !== null && rComp >= 0.5, rComp)));
      rows.push(row('  vs composed knee (route knee + PG group share + Bull knee)', '', num('int', comp.ingestKnee?.perSecond, 'ev/s'), num('pct', ratio(knee, comp.ingestKnee?.perSecond))));
      // Whether the step that failed had the disk stall under it (see commit-probe.js).
      const failing = k.ingest.steps.find((s) => !s.ok && s.rate === k.ingest.firstFailing);
      if (failing?.extra?.commits) rows.push(row('  the first step that failed: rate / p99 / slowest empty commit beside it', num('int', failing.rate, 'ev/s'), num('ms', [failing.p99, failing.extra.commits.max])));
    }
    if (h.batch) {
      const r = ratio(h.batch.eventsPerSecond, c.pg?.rowsPerSecond);
      rows.push(row(`batch ingest (${ctx.P.batchSize}/request)`, num('int', h.batch.eventsPerSecond, 'ev/s'), num('int', c.pg?.rowsPerSecond, 'ev/s PG unnest'), num('pct', r), '≥ 15 000 ev/s', target('batch ≥ 15 000 events/s', h.batch.eventsPerSecond >= 15000, h.batch.eventsPerSecond)));
    }
    return rows;
  },
};

function log(ctx, ...a) {
  ctx.log(...a);
}
