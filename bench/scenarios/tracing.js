'use strict';
// Tracing's cost (issue 16 §1): the worker's drain with OpenTelemetry export on (OTEL_EXPORTER_OTLP_ENDPOINT
// pointing at the bench receiver's OTLP/HTTP sink, which accepts and discards) against the same drain with
// tracing off, alternating off / on twice in one run; and "off" against the drain row of the same run (no
// cost when off: the SDK is not even loaded then).
const { wallNow, waitFor, fmt } = require('../lib');
const { num, row } = require('../report');

module.exports = {
  name: 'tracing',
  needs: 'worker',
  async run(ctx) {
    const { P, results, rx } = ctx;
    const size = ctx.SMOKE ? 500 : 15000;
    const set = await ctx.endpointSet('trace');
    const typeOf = (i) => set[i % set.length].type;
    const tracingOn = {
      OTEL_EXPORTER_OTLP_ENDPOINT: ctx.rurl('/otlp'),
      OTEL_SERVICE_NAME: 'herald-bench',
      // every span exported (the default queue of 2 048 spans would drop most of a fast drain's, hiding their cost)
      OTEL_BSP_MAX_QUEUE_SIZE: '65536',
      OTEL_BSP_SCHEDULE_DELAY: '1000',
    };
    const drainOnce = async (label, env) => {
      await ctx.stopWorker();
      await rx.reset('trace');
      const queued = await ctx.publishBatches(label, size, typeOf);
      if (queued !== size) ctx.fail(`${label}: ${queued} deliveries created for ${size} events`);
      await waitFor(`${size} jobs in Redis`, async () => (await ctx.waiting()) >= size, 20000).catch((e) => ctx.fail(`${label}: ${e.message}`));
      await ctx.startWorker(env);
      const done = await ctx.waitUntil(() => rx.stats('trace'), (s) => s.unique >= size, Math.max(P.settleMs, size * 2));
      if (done.unique < size) ctx.fail(`${label}: only ${done.unique} of ${size} deliveries received`);
      const perSecond = done.unique / ((done.last - done.first) / 1000);
      ctx.log(`  ${label}: ${fmt.int(perSecond)} deliveries/s`);
      return perSecond;
    };
    ctx.log(`tracing: drain of ${fmt.int(size)} deliveries with OTLP export on and off, alternating (${set.length} endpoints)`);
    const on = [];
    const off = [];
    await rx.reset('otlp');
    const t0 = wallNow();
    for (let round = 1; round <= 2; round++) {
      on.push(await drainOnce(`tracing on (${round})`, tracingOn));
      off.push(await drainOnce(`tracing off (${round})`, {}));
    }
    const otlp = await rx.stats('otlp');
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const r = {
      deliveries: size,
      onPerSecond: mean(on),
      offPerSecond: mean(off),
      runs: { on, off },
      otlpRequests: otlp.count,
      otlpBytes: otlp.bytes,
      drainPerSecond: results.herald.drain?.perSecond ?? null,
      elapsedS: (wallNow() - t0) / 1000,
    };
    r.cost = 1 - r.onPerSecond / r.offPerSecond;
    r.offVsDrain = r.drainPerSecond ? r.offPerSecond / r.drainPerSecond : null;
    results.herald.tracing = r;
    ctx.log(`  on ${fmt.int(r.onPerSecond)}/s, off ${fmt.int(r.offPerSecond)}/s: tracing costs ${fmt.pct(r.cost)}; the sink got ${otlp.count} OTLP requests (${fmt.int(otlp.bytes / 1024)} KiB)`);
    if (!otlp.count) ctx.fail('tracing: the worker exported nothing with OTEL_EXPORTER_OTLP_ENDPOINT set');
  },
  rows(ctx) {
    const r = ctx.results.herald.tracing;
    if (!r) return [];
    const rows = [
      row(
        `tracing on (OTLP/HTTP export): drain of ${fmt.int(r.deliveries)}`,
        num('int', r.onPerSecond, 'dlv/s'),
        num('int', r.offPerSecond, 'dlv/s tracing off'),
        num('pct', r.cost),
        'cost < 10 %',
        ctx.target('tracing costs < 10 % of drain', r.cost < 0.1, r.cost),
      ),
      row('  spans exported: OTLP requests / KiB', num('int', [r.otlpRequests, r.otlpBytes / 1024])),
    ];
    if (r.offVsDrain !== null) {
      rows.push(row('  tracing off vs the drain row', num('int', r.offPerSecond, 'dlv/s'), num('int', r.drainPerSecond, 'dlv/s drain'), num('pct', r.offVsDrain), 'no cost (≥ 90 %)', ctx.target('tracing off costs nothing measurable', r.offVsDrain >= 0.9, r.offVsDrain)));
    }
    return rows;
  },
};
