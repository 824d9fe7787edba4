'use strict';
// End to end (publish → receiver) at half the drain rate, fan-out, and the same end to end beside an
// endpoint throttled to 5/s with a large backlog.
const { shardOf, wallNow, http, fmt } = require('../lib');
const { num, row } = require('../report');
const { composed } = require('./ingest');
const { startCpu, describeCpu, cpuRow } = require('../cpu');
const { commitNote, commitRows } = require('../commit-probe');

/**
 * Publishes in open loop to `set` (round robin over its event types) at `rate` for `durationS` after a
 * warm-up, and measures publish → receive under the receiver tag `tag`; returns the figures and the loss.
 */
async function openLoopE2E(ctx, { label, set, tag, rate, durationS, warmS }) {
  const { P, rx } = ctx;
  await rx.reset(tag, `${tag}-warm`, ...set.map((e) => e.tag));
  const load = { origin: ctx.api, path: `${ctx.t}/events`, rate, headers: ctx.jsonHeaders };
  const types = set.map((e) => e.type);
  await ctx.measure('open', { load: { ...load, durationMs: warmS * 1000, body: { events: { types, warm: true, pad: ctx.PAD } } } });
  const from = wallNow();
  const cpuOf = startCpu(ctx);
  const pub = await ctx.measure('open', { load: { ...load, durationMs: durationS * 1000, collectIds: true, body: { events: { types, warm: false, pad: ctx.PAD } } }, commitProbe: ctx.dbUrl() });
  const cpu = cpuOf();
  const to = wallNow();
  const got = await ctx.waitUntil(() => rx.stats(tag), (s) => s.unique >= pub.ok, P.settleMs, true);
  const full = await rx.stats(tag, { ids: true });
  const seen = new Set(full.ids);
  const lost = pub.ids.filter((id) => !seen.has(id)).length;
  const r = { label, endpoints: set.length, rate, durationS, published: pub.ok, publishFailed: pub.failed, publishLatency: pub.latency, received: got.unique, duplicates: got.duplicates, lost, latency: full.latency, window: [from, to], maxSendDelayMs: pub.maxSendDelayMs, cpu, commits: pub.commits };
  ctx.log(`  ${label}: ${pub.ok} published at ${rate}/s, ${got.unique} received, ${lost} lost; publish→receive p50 ${fmt.ms(full.latency.p50)}, p99 ${fmt.ms(full.latency.p99)}, max ${fmt.ms(full.latency.max)} (publish p99 ${fmt.ms(pub.latency.p99)}); ${commitNote(pub.commits)}; CPU: ${describeCpu(cpu)}`);
  if (lost) ctx.fail(`${label}: ${lost} events lost`);
  if (pub.failed) ctx.fail(`${label}: ${pub.failed} publishes failed ${JSON.stringify({ statuses: pub.statuses, errors: pub.errors })}`);
  return r;
}

module.exports = {
  name: 'end to end',
  needs: 'worker',
  openLoopE2E,
  async run(ctx) {
    const { P, results, rx } = ctx;
    const e2eSet = await ctx.endpointSet('e2e');
    const throttledEp = await ctx.endpoint('/throttled', ['bench.throttled'], { rateLimitPerSecond: P.throttleRate });
    const throttledShard = shardOf(throttledEp.id, P.shards);
    const sibling = e2eSet.find((e) => e.shard === throttledShard);
    for (let i = 0; i < P.fanoutEndpoints; i++) await ctx.endpoint(`/fanout/${i}`, ['bench.fanout']);

    // Every event is published and delivered on the same cores: the pipeline's capacity is its two stages in
    // series, 1 / (1 / ingest max + 1 / drain), and half of that is half load. (Half the drain rate alone, the
    // rate this row first used, asks the box for more than it has once ingest costs as much CPU as the drain.)
    const capacity = composed(results.herald.ingest?.max.rate, results.herald.drain?.perSecond);
    results.composed.e2e = { perSecond: capacity, parts: { ingest: results.herald.ingest?.max.rate, drain: results.herald.drain?.perSecond } };
    const e2eRate = Math.max(10, Math.round((capacity || 20) * 0.5));
    const runE2E = async (label) => {
      const r = await openLoopE2E(ctx, { label, set: e2eSet, tag: 'e2e', rate: e2eRate, durationS: P.e2eS, warmS: P.e2eWarmS });
      r.sameShardAsThrottled = { endpoint: sibling.id, shard: sibling.shard, latency: (await rx.stats(sibling.tag)).latency };
      return r;
    };
    ctx.log(`end to end: ${P.e2eS} s at ${e2eRate} events/s (50 % of the pipeline's capacity, ${fmt.int(capacity)} ev/s)`);
    await ctx.profile('worker', 'start');
    await ctx.profile('api', 'start');
    results.herald.e2e = await runE2E('e2e');
    await ctx.profile('api', 'stop', 'api-e2e');
    await ctx.profile('worker', 'stop', 'worker-e2e');

    ctx.log(`fan-out: ${P.fanoutEvents} events × ${P.fanoutEndpoints} endpoints`);
    {
      const total = P.fanoutEvents * P.fanoutEndpoints;
      const t0 = wallNow();
      let next = 0;
      let made = 0;
      const poster = async () => {
        while (next < P.fanoutEvents) {
          const i = next++;
          const res = await http('POST', `${ctx.api}${ctx.t}/events`, { eventType: 'bench.fanout', payload: { t: wallNow(), seq: i, pad: ctx.PAD } }, ctx.auth);
          if (res.status !== 202) throw new Error(`fan-out publish answered ${res.status}`);
          made += res.body.deliveryCount;
        }
      };
      await Promise.all(Array.from({ length: 4 }, poster));
      const done = await ctx.waitUntil(() => rx.stats('fanout'), (s) => s.count >= total, P.settleMs);
      results.herald.fanout = { events: P.fanoutEvents, endpoints: P.fanoutEndpoints, deliveries: made, received: done.count, perSecond: done.count / ((done.last - t0) / 1000), latency: done.latency };
      ctx.log(`  ${fmt.int(results.herald.fanout.perSecond)} deliveries/s (${done.count}/${total}; publish→receive p50 ${fmt.ms(done.latency.p50)}, p99 ${fmt.ms(done.latency.p99)})`);
      if (made !== total) ctx.fail(`fan-out: ${made} deliveries created, expected ${total}`);
      if (done.count < total) ctx.fail(`fan-out: only ${done.count} of ${total} deliveries received`);
    }

    ctx.log(`throttled neighbour: an endpoint at ${P.throttleRate}/s with a ${P.throttledBacklog}-delivery backlog, then end to end again`);
    {
      const queuedAt = wallNow();
      await ctx.publishBatches('throttled', P.throttledBacklog, () => 'bench.throttled');
      const e2e = await runE2E('e2e-throttled-neighbour');
      const th = await rx.stats('throttled', { window: e2e.window });
      const windowS = (e2e.window[1] - e2e.window[0]) / 1000;
      const observed = th.inWindow / windowS;
      const base = results.herald.e2e.latency;
      results.herald.throttled = {
        backlog: P.throttledBacklog,
        rateLimitPerSecond: P.throttleRate,
        e2e,
        throttledReceivedTotal: th.count,
        throttledReceivedInWindow: th.inWindow,
        throttledObservedPerSecond: observed,
        throttledSinceQueuedPerSecond: th.count / ((wallNow() - queuedAt) / 1000),
        // a GCRA at 5/s admits a small burst; more than 1.5× the rate over the window means it is not enforced
        enforced: observed <= P.throttleRate * 1.5 + 2 / windowS,
        p50Change: e2e.latency.p50 / base.p50 - 1,
        p99Change: e2e.latency.p99 / base.p99 - 1,
        sameShard: {
          shard: throttledShard,
          p50Change: e2e.sameShardAsThrottled.latency.p50 / results.herald.e2e.sameShardAsThrottled.latency.p50 - 1,
          p99Change: e2e.sameShardAsThrottled.latency.p99 / results.herald.e2e.sameShardAsThrottled.latency.p99 - 1,
        },
      };
      const t = results.herald.throttled;
      ctx.log(`  throttled endpoint received ${th.inWindow} in ${windowS.toFixed(0)} s (${observed.toFixed(1)}/s): rate limit ${t.enforced ? 'enforced' : 'NOT enforced'}; neighbours p50 ${fmt.ms(e2e.latency.p50)} (${fmt.pct(t.p50Change)}), p99 ${fmt.ms(e2e.latency.p99)} (${fmt.pct(t.p99Change)}); the one on its shard p50 ${fmt.ms(e2e.sameShardAsThrottled.latency.p50)} (${fmt.pct(t.sameShard.p50Change)}), p99 ${fmt.ms(e2e.sameShardAsThrottled.latency.p99)} (${fmt.pct(t.sameShard.p99Change)})`);
      // its backlog would drain for an hour at 5/s: drop it so that the scenarios after this one start clean
      await ctx.retire('throttled neighbour', [throttledEp.id]);
    }
  },
  rows(ctx) {
    const { ceilings: c, herald: h } = ctx.results;
    const rows = [];
    const target = ctx.target;
    if (h.e2e) {
      const cap = ctx.results.composed.e2e;
      if (cap?.perSecond) rows.push(row('end to end capacity: 1 / (1 / ingest max + 1 / drain), one box', num('int', cap.perSecond, 'ev/s'), ''));
      rows.push(row(`end to end p50 / p99 (${fmt.int(h.e2e.rate)} ev/s = 50 % of capacity, ${h.e2e.durationS} s, ${h.e2e.endpoints} endpoints)`, num('ms', [h.e2e.latency.p50, h.e2e.latency.p99]), '', '', 'p50 ≤ 20, p99 ≤ 250 ms', target('end to end p50 ≤ 20 ms, p99 ≤ 250 ms', h.e2e.latency.p50 <= 20 && h.e2e.latency.p99 <= 250, h.e2e.latency)));
      rows.push(row('  events lost', num('int', h.e2e.lost), '', '', '0', target('end to end: 0 lost', h.e2e.lost === 0 && h.e2e.published > 0, h.e2e.lost)));
      rows.push(...commitRows(h.e2e.commits));
      rows.push(cpuRow(h.e2e.cpu));
    }
    if (h.fanout) {
      rows.push(row(`fan-out (1 event → ${h.fanout.endpoints} endpoints, ×${h.fanout.events})`, num('int', h.fanout.perSecond, 'dlv/s'), num('int', c.bull?.processPerSecond, 'jobs/s Bull no-op'), num('pct', h.fanout.perSecond / c.bull?.processPerSecond)));
    }
    if (h.throttled) {
      const th = h.throttled;
      const ok = th.p50Change <= 0.2 && th.p99Change <= 0.2 && th.e2e.lost === 0;
      rows.push(row('throttled neighbour: e2e p50 / p99', num('ms', [th.e2e.latency.p50, th.e2e.latency.p99]), num('ms', [h.e2e.latency.p50, h.e2e.latency.p99], 'alone'), num('pct', [th.p50Change, th.p99Change]), 'change ≤ +20 %', target('throttled neighbour: latency change ≤ 20 %', ok, { p50: th.p50Change, p99: th.p99Change })));
      const ss = th.sameShard;
      const base = h.e2e.sameShardAsThrottled.latency;
      const ssl = th.e2e.sameShardAsThrottled.latency;
      rows.push(row("  the one on the throttled endpoint's shard", num('ms', [ssl.p50, ssl.p99]), num('ms', [base.p50, base.p99], 'alone'), num('pct', [ss.p50Change, ss.p99Change]), 'change ≤ +20 %', target('throttled neighbour on the same shard: latency change ≤ 20 %', ss.p50Change <= 0.2 && ss.p99Change <= 0.2, ss)));
      rows.push(row(`  throttled endpoint (limit ${th.rateLimitPerSecond}/s)`, num('dec', th.throttledObservedPerSecond, 'dlv/s'), '', '', `≤ ${th.rateLimitPerSecond}/s`, target('rate limit enforced', th.enforced, th.throttledObservedPerSecond)));
      rows.push(row('  events lost', num('int', th.e2e.lost), '', '', '0', target('throttled neighbour: 0 lost', th.e2e.lost === 0 && th.e2e.published > 0, th.e2e.lost)));
    }
    return rows;
  },
};
