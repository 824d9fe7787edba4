'use strict';
// Receivers that answer the way production receivers do: 200 ms ± 25 % over keep-alive (the bench
// receiver's "slow" paths). A backlog for one endpoint, then for 100 endpoints; deliveries per second over
// a fixed window from the first arrival, and the most requests the receiver had in flight at once.
const { sleep, fmt } = require('../lib');
const { num, row } = require('../report');
const { startCpu, describeCpu, cpuRow } = require('../cpu');

async function slowDrain(ctx, { label, tag, endpoints, backlog, windowS }) {
  const { rx } = ctx;
  const eps = [];
  for (let i = 0; i < endpoints; i++) eps.push(await ctx.endpoint(`/${tag}/${i}`, [`bench.${tag}.${i}`]));
  await rx.reset(tag);
  ctx.log(`${label}: ${fmt.int(backlog)} deliveries queued for ${endpoints} endpoint(s) answering in 200 ms ± 25 %, measured for ${windowS} s`);
  const started = Date.now();
  const created = await ctx.publishBatches(label, backlog, (i) => `bench.${tag}.${i % endpoints}`);
  if (created !== backlog) ctx.fail(`${label}: ${created} deliveries created for ${backlog} events`);
  const first = await ctx.waitUntil(() => rx.stats(tag), (s) => s.count > 0, ctx.P.settleMs, true);
  if (!first.count) {
    ctx.fail(`${label}: nothing received`);
    return null;
  }
  // The window opens once the whole backlog is queued, not at the first arrival: until then the worker shares the
  // two cores with the API taking the backlog in, and on a slow day publishing filled most of a window that opened at
  // the first arrival (the CPU was then read over the fraction of a second left after publishing). It ends early if
  // the backlog is done, and the rate then runs to the last arrival.
  const windowStart = Date.now();
  const windowEnd = windowStart + windowS * 1000;
  const cpuOf = startCpu(ctx);
  await ctx.profile('worker', 'start');
  await ctx.waitUntil(() => rx.stats(tag), (s) => s.count >= backlog || Date.now() >= windowEnd, windowS * 1000, true);
  const cpu = cpuOf();
  await ctx.profile('worker', 'stop', `worker-${tag}`);
  await sleep(Math.max(0, windowEnd - Date.now()));
  const s = await rx.stats(tag, { window: [windowStart, windowEnd] });
  const allIn = s.count >= backlog;
  // Drained before it was all queued (a smoke run's small backlog): the rate over every arrival instead.
  const [from, count] = allIn && s.last <= windowStart ? [s.first, s.count] : [windowStart, s.inWindow];
  const perSecond = count / (allIn ? Math.max(0.001, (s.last - from) / 1000) : windowS);
  const result = { endpoints, backlog, windowS, received: s.count, inWindow: s.inWindow, perSecond, maxInFlight: s.maxInFlight, drainedInS: allIn ? (s.last - started) / 1000 : null, queuedInS: (windowStart - started) / 1000, duplicates: s.duplicates, cpu };
  ctx.log(`  ${fmt.int(result.perSecond)} deliveries/s once all ${fmt.int(backlog)} were queued (in ${result.queuedInS.toFixed(1)} s), at most ${s.maxInFlight} in flight at the receiver (${s.count} received); CPU: ${describeCpu(cpu)}`);
  await ctx.retire(label, eps.map((e) => e.id));
  return result;
}

module.exports = {
  name: 'slow receivers',
  needs: 'worker',
  slowDrain,
  async run(ctx) {
    const { results } = ctx;
    const windowS = ctx.SMOKE ? 2 : 20;
    // backlogs sized for the targets (1 000 and 3 000 deliveries/s over the window), so the window never runs dry at target
    results.herald.slowOne = await slowDrain(ctx, { label: 'slow receivers, 1 endpoint', tag: 'slow1', endpoints: 1, backlog: ctx.SMOKE ? 200 : 1000 * windowS, windowS });
    results.herald.slowMany = await slowDrain(ctx, { label: 'slow receivers, 100 endpoints', tag: 'slowm', endpoints: ctx.SMOKE ? 20 : 100, backlog: ctx.SMOKE ? 400 : 3000 * windowS, windowS });
  },
  rows(ctx) {
    const { slowOne, slowMany } = ctx.results.herald;
    const rows = [];
    const add = (r, name, goal) => {
      if (!r) return;
      rows.push(row(`slow receivers (200 ms ± 25 %), ${name}`, num('int', r.perSecond, 'dlv/s'), '', '', `≥ ${fmt.int(goal)} dlv/s`, ctx.target(`slow receivers, ${name}: ≥ ${goal} dlv/s`, r.perSecond >= goal, r.perSecond)));
      rows.push(row('  most requests in flight at the receiver', num('int', r.maxInFlight)));
      rows.push(cpuRow(r.cpu));
    };
    add(slowOne, '1 endpoint', 1000);
    add(slowMany, `${slowMany?.endpoints ?? 100} endpoints`, 3000);
    return rows;
  },
};
