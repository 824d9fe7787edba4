'use strict';
// A hot endpoint: one endpoint (a production-like receiver, 200 ms ± 25 %) with a large backlog while 20
// other endpoints publish at a steady rate; their end-to-end latency against the same load without it.
const { fmt } = require('../lib');
const { num, row } = require('../report');
const { openLoopE2E } = require('./e2e');
const { cpuRow } = require('../cpu');
const { probeLabel } = require('../commit-probe');

module.exports = {
  name: 'hot endpoint',
  needs: 'worker',
  async run(ctx) {
    const { P, results, rx } = ctx;
    const set = [];
    for (let i = 0; i < 20; i++) {
      const e = await ctx.endpoint(`/hotn/${i}`, [`bench.hotn.${i}`]);
      set.push({ id: e.id, type: `bench.hotn.${i}`, tag: `hotn/${i}` });
    }
    const hot = await ctx.endpoint('/slowhot/0', ['bench.hot']);
    const rate = ctx.SMOKE ? 40 : 200;
    const backlog = ctx.SMOKE ? 300 : 20000;
    ctx.log(`hot endpoint: 20 endpoints at ${rate} events/s in all, alone, then beside one endpoint with ${fmt.int(backlog)} queued`);
    const alone = await openLoopE2E(ctx, { label: 'hot endpoint: neighbours alone', set, tag: 'hotn', rate, durationS: ctx.SMOKE ? 2 : 20, warmS: P.e2eWarmS });
    await rx.reset('slowhot');
    await ctx.publishBatches('hot endpoint backlog', backlog, () => 'bench.hot');
    await ctx.profile('worker', 'start');
    const beside = await openLoopE2E(ctx, { label: 'hot endpoint: neighbours beside it', set, tag: 'hotn', rate, durationS: ctx.SMOKE ? 2 : 20, warmS: P.e2eWarmS });
    await ctx.profile('worker', 'stop', 'worker-hot-endpoint');
    const h = await rx.stats('slowhot', { window: beside.window });
    results.herald.hotEndpoint = {
      backlog,
      rate,
      alone,
      beside,
      hotReceivedInWindow: h.inWindow,
      hotMaxInFlight: h.maxInFlight,
      p50Change: beside.latency.p50 / alone.latency.p50 - 1,
      p99Change: beside.latency.p99 / alone.latency.p99 - 1,
    };
    const r = results.herald.hotEndpoint;
    ctx.log(`  neighbours p99 ${fmt.ms(alone.latency.p99)} alone, ${fmt.ms(beside.latency.p99)} beside it (${fmt.pct(r.p99Change)}); the hot endpoint got ${h.inWindow} meanwhile, at most ${h.maxInFlight} in flight`);
    await ctx.retire('hot endpoint', [hot.id]);
  },
  rows(ctx) {
    const r = ctx.results.herald.hotEndpoint;
    if (!r) return [];
    const ok = r.p99Change <= 0.2 && r.beside.lost === 0;
    return [
      row(`hot endpoint (${fmt.int(r.backlog)} queued): 20 neighbours' e2e p50 / p99`, num('ms', [r.beside.latency.p50, r.beside.latency.p99]), num('ms', [r.alone.latency.p50, r.alone.latency.p99], 'alone'), num('pct', [r.p50Change, r.p99Change]), 'p99 change ≤ +20 %', ctx.target("hot endpoint: neighbours' p99 change ≤ 20 %", ok, r.p99Change)),
      row('  the hot endpoint meanwhile: delivered / most in flight', num('int', [r.hotReceivedInWindow, r.hotMaxInFlight])),
      ...(r.alone.commits && r.beside.commits
        ? [row(`  ${probeLabel('them')}: p99 / slowest alone, then beside`, num('ms', [r.alone.commits.p99, r.alone.commits.max, r.beside.commits.p99, r.beside.commits.max]))]
        : []),
      cpuRow(r.alone.cpu, 'of the neighbours alone'),
      cpuRow(r.beside.cpu, 'beside the hot endpoint'),
      row('  events lost', num('int', r.alone.lost + r.beside.lost), '', '', '0', ctx.target('hot endpoint: 0 lost', r.alone.lost + r.beside.lost === 0, r.beside.lost)),
    ];
  },
};
