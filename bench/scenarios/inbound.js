'use strict';
// Inbound at the seeds' scale: a burst at /in/{source} (50 connections, 1 KB JSON, a `none` and an `hmac`
// source, API and worker running, each event delivered to one endpoint) beside single-event ingest
// measured the same way in the same run; then each source in open loop at 80 % of that ingest rate.
const { createHmac } = require('node:crypto');
const { fmt } = require('../lib');
const { num, row } = require('../report');
const { startCpu, cpuRow } = require('../cpu');
const { commitNote, commitRows } = require('../commit-probe');
const { beyondGenerator } = require('./generator');

const CONNECTIONS = 50;

module.exports = {
  name: 'inbound',
  needs: 'worker',
  async run(ctx) {
    const { P, results } = ctx;
    const ep = await ctx.endpoint('/inbound', ['bench.inbound', 'bench.inbound-ref']);
    const secret = 'bench-inbound-secret';
    const none = await ctx.call('POST', `${ctx.t}/sources`, { name: 'bench-none', eventType: 'bench.inbound', verifier: { type: 'none' } });
    const hmac = await ctx.call('POST', `${ctx.t}/sources`, { name: 'bench-hmac', eventType: 'bench.inbound', verifier: { type: 'hmac', secret, header: 'X-Bench-Signature', algorithm: 'sha256', encoding: 'hex' } });
    const body = JSON.stringify({ id: 'bench', type: 'bench.inbound', data: { pad: ctx.PAD } });
    const json = { 'content-type': 'application/json' };
    const closed = (url, headers, b, durationS) => ctx.measure('closed', { load: { url, connections: CONNECTIONS, durationS, headers, body: b } });

    ctx.log(`inbound: single-event ingest, then /in/{source} (none, hmac), closed loop ${CONNECTIONS} connections, worker running`);
    const refUrl = `${ctx.api}${ctx.t}/events`;
    const refBody = ctx.ingestBody('bench.inbound-ref');
    await closed(refUrl, ctx.jsonHeaders, refBody, P.warmS);
    const ingest = await closed(refUrl, ctx.jsonHeaders, refBody, P.measureS);
    ctx.log(`  single-event ingest: ${fmt.int(ingest.rate)} ev/s (p99 ${fmt.ms(ingest.latency.p99)})`);
    const out = { connections: CONNECTIONS, ingest, sources: {} };
    for (const [kind, source, headers] of [
      ['none', none, json],
      ['hmac', hmac, { ...json, 'x-bench-signature': createHmac('sha256', secret).update(body).digest('hex') }],
    ]) {
      const path = `/in/${source.id}`;
      await closed(ctx.api + path, headers, body, P.warmS);
      const max = await closed(ctx.api + path, headers, body, P.measureS);
      const rate = ingest.rate * 0.8;
      const cpuOf = startCpu(ctx);
      const at80 = await ctx.measure('open', { load: { origin: ctx.api, path, rate, durationMs: P.measureS * 1000, headers, body: { fixed: body }, connections: CONNECTIONS }, commitProbe: ctx.dbUrl() });
      at80.cpu = cpuOf();
      delete at80.ids;
      out.sources[kind] = { max, at80 };
      ctx.log(`  ${kind}: ${fmt.int(max.rate)} req/s (p99 ${fmt.ms(max.latency.p99)}); at 80 % of ingest (${fmt.int(rate)}/s): p50 ${fmt.ms(at80.latency.p50)}, p99 ${fmt.ms(at80.latency.p99)}; ${commitNote(at80.commits)}`);
      if (max.non2xx || max.errors) ctx.fail(`inbound ${kind}: ${max.non2xx} non-2xx answers, ${max.errors} errors`);
      if (at80.failed) ctx.fail(`inbound ${kind} at 80 %: ${at80.failed} requests failed ${JSON.stringify({ statuses: at80.statuses, errors: at80.errors })}`);
    }
    results.herald.inbound = out;
    await ctx.retire('inbound', [ep.id]);
  },
  rows(ctx) {
    const r = ctx.results.herald.inbound;
    if (!r) return [];
    const rows = [];
    for (const [kind, s] of Object.entries(r.sources)) {
      const ratio = s.max.rate / r.ingest.rate;
      rows.push(row(`inbound burst /in (${kind}), ${r.connections} connections${beyondGenerator(ctx, s.max.rate)}`, num('int', s.max.rate, 'req/s'), num('int', r.ingest.rate, 'ev/s single-event ingest'), num('pct', ratio), '≥ 80 %', ctx.target(`inbound ${kind} ≥ 80 % of single-event ingest`, ratio >= 0.8, ratio)));
      rows.push(row(`  p50 / p99 at 80 % of ingest (open loop)${beyondGenerator(ctx, s.at80.rate)}`, num('ms', [s.at80.latency.p50, s.at80.latency.p99]), '', '', 'p99 ≤ 50 ms', ctx.target(`inbound ${kind}: p99 ≤ 50 ms at 80 % of ingest`, s.at80.latency.p99 <= 50, s.at80.latency.p99)));
      rows.push(...commitRows(s.at80.commits));
      rows.push(cpuRow(s.at80.cpu, 'at 80 %'));
    }
    return rows;
  },
};
