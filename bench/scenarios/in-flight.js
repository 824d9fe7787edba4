'use strict';
// Memory with 10 000 requests in flight (issue 11 §1): a worker started with HERALD_WORKER_CONCURRENCY=10000
// and 10 000 deliveries to receivers that hold each request open (the bench receiver's /hold/<ms> paths);
// the most requests the receiver saw in flight at once, and the worker's resident memory meanwhile (sampled
// from /proc, the peak) against the same worker idle.
const fs = require('node:fs');
const { sleep, waitFor, fmt } = require('../lib');
const { num, row } = require('../report');

/** Resident set size of a process in MiB (Linux /proc), or null elsewhere. */
function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

module.exports = {
  name: 'in flight',
  needs: 'worker',
  rssMiB,
  async run(ctx) {
    const { results, rx } = ctx;
    const target = ctx.SMOKE ? 1000 : 10000;
    const holdMs = ctx.SMOKE ? 4000 : 20000;
    const endpoints = 20;
    // a worker of its own for this: the budget raised to the target (the default is 1 000)
    await ctx.stopWorker();
    await ctx.startWorker({ HERALD_WORKER_CONCURRENCY: String(target) });
    const pid = ctx.procs.worker.child.pid;
    await sleep(1000);
    const idle = rssMiB(pid);
    const eps = [];
    for (let i = 0; i < endpoints; i++) eps.push(await ctx.endpoint(`/hold/${holdMs}/${i}`, [`bench.hold.${i}`], { timeoutMs: holdMs + 30000 }));
    await rx.reset('hold');
    ctx.log(`in flight: ${fmt.int(target)} deliveries to ${endpoints} endpoints that hold each request ${holdMs / 1000} s, worker concurrency ${fmt.int(target)} (RSS idle ${fmt.int(idle)} MiB)`);
    const t0 = Date.now();
    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const v = rssMiB(pid);
        if (v !== null && v > peak) peak = v;
        await sleep(100);
      }
    })();
    await ctx.publishBatches('in flight', target, (i) => `bench.hold.${i % endpoints}`);
    // wait for the in-flight count to reach the target, or to stop rising
    let reachedAt = null;
    await waitFor('requests in flight to reach the target', async () => {
      const s = await rx.stats('hold');
      if (s.inFlight >= target) reachedAt = Date.now();
      return s.inFlight >= target;
    }, holdMs, 100).catch(() => undefined);
    const atPeak = await rx.stats('hold');
    const rssAtTarget = rssMiB(pid);
    // every request answered (the hold ends), then the memory once they are done
    const done = await ctx.waitUntil(() => rx.stats('hold'), (s) => s.count >= target && s.inFlight === 0, holdMs * 2 + 10000, true);
    sampling = false;
    await sampler;
    await sleep(1000);
    const after = rssMiB(pid);
    results.herald.inFlight = {
      target,
      holdMs,
      endpoints,
      maxInFlight: atPeak.maxInFlight,
      reachedS: reachedAt ? (reachedAt - t0) / 1000 : null,
      received: done.count,
      rssIdleMiB: idle,
      rssAtTargetMiB: rssAtTarget,
      rssPeakMiB: peak,
      rssAfterMiB: after,
    };
    const r = results.herald.inFlight;
    ctx.log(`  at most ${fmt.int(r.maxInFlight)} in flight${r.reachedS !== null ? ` (reached in ${r.reachedS.toFixed(1)} s)` : ''}; worker RSS ${fmt.int(idle)} MiB idle, ${fmt.int(rssAtTarget)} MiB at the top, peak ${fmt.int(peak)} MiB, ${fmt.int(after)} MiB after (${done.count}/${target} answered)`);
    if (done.count < target) ctx.fail(`in flight: only ${done.count} of ${target} deliveries received`);
    if (done.duplicates) ctx.fail(`in flight: ${done.duplicates} duplicate deliveries`);
    await ctx.retire('in flight', eps.map((e) => e.id));
    // the scenarios after this one get the worker with its default settings back
    await ctx.stopWorker();
  },
  rows(ctx) {
    const r = ctx.results.herald.inFlight;
    if (!r) return [];
    return [
      row(`${fmt.int(r.target)} requests held open (worker concurrency ${fmt.int(r.target)}): most in flight`, num('int', r.maxInFlight), '', '', `${fmt.int(r.target)}`, ctx.target(`${r.target} requests in flight reached`, r.maxInFlight >= r.target, r.maxInFlight)),
      row('  worker RSS idle / at the top / peak', num('int', [r.rssIdleMiB, r.rssAtTargetMiB, r.rssPeakMiB], 'MiB'), '', '', 'bounded', ctx.target('worker RSS bounded with 10 000 in flight (< 1 GiB)', r.rssPeakMiB !== null && r.rssPeakMiB < 1024, r.rssPeakMiB)),
    ];
  },
};
