'use strict';
// Durable bulk replay beside live traffic (issue 14 §4): live end-to-end latency at a steady rate alone, then
// the same live load while a replay of 100 000 deliveries runs (`missing: true` for an endpoint created after
// its events were published, so every one of them is a delivery the replay creates and sends). The replay is
// paced by Herald (a page is queued only when most of the last one is sent), so live deliveries never wait
// behind the replay's backlog; what remains is the CPU they share on this box.
const { wallNow, waitFor, fmt } = require('../lib');
const { num, row } = require('../report');
const { openLoopE2E } = require('./e2e');

module.exports = {
  name: 'replay',
  needs: 'worker',
  async run(ctx) {
    const { results, rx } = ctx;
    const size = ctx.SMOKE ? 2000 : 100000;
    const rate = ctx.SMOKE ? 40 : 200;
    const durationS = ctx.SMOKE ? 2 : 15;
    const warmS = ctx.SMOKE ? 1 : 3;
    const live = await ctx.endpointSet('rlive');
    ctx.log(`replay: live load ${rate} events/s over ${live.length} endpoints alone, then beside a replay of ${fmt.int(size)} deliveries`);
    const alone = await openLoopE2E(ctx, { label: 'replay: live alone', set: live, tag: 'rlive', rate, durationS, warmS });

    // the events the replay sends: published while no endpoint subscribed to them (the window starts after the
    // live events above, which the replay would otherwise examine too)
    const since = new Date(wallNow()).toISOString();
    const t0 = wallNow();
    await ctx.publishBatches('replay events', size, () => 'bench.replayed');
    ctx.log(`  ${fmt.int(size)} events published in ${((wallNow() - t0) / 1000).toFixed(1)} s with no endpoint subscribed`);
    const target = await ctx.endpoint('/replayed/0', ['bench.replayed']);
    await rx.reset('replayed');
    const replay = await ctx.call('POST', `${ctx.t}/replays`, { since, endpointId: target.id, missing: true });
    const status = () => ctx.call('GET', `${ctx.t}/replays/${replay.id}`);
    // live traffic measured once the replay is sending
    await waitFor('the replay to send', async () => (await rx.stats('replayed')).count > 0, 60000, 100);
    const before = await status();
    const during = await openLoopE2E(ctx, { label: 'replay: live during the replay', set: live, tag: 'rlive', rate, durationS, warmS });
    const after = await status();
    const sent = await rx.stats('replayed', { window: during.window });
    const windowS = (during.window[1] - during.window[0]) / 1000;
    const r = {
      size,
      total: after.total,
      rate,
      alone,
      during,
      replayStatus: after.status,
      replayDoneInWindow: after.done - before.done,
      replayReceivedInWindow: sent.inWindow,
      replayPerSecond: sent.inWindow / windowS,
      replayReceived: sent.count,
      p50Change: during.latency.p50 / alone.latency.p50 - 1,
      p99Change: during.latency.p99 / alone.latency.p99 - 1,
    };
    results.herald.replay = r;
    ctx.log(`  live p99 ${fmt.ms(alone.latency.p99)} alone, ${fmt.ms(during.latency.p99)} during the replay (${fmt.pct(r.p99Change)}); the replay (total ${fmt.int(after.total)}) sent ${fmt.int(sent.inWindow)} meanwhile (${fmt.int(r.replayPerSecond)}/s), ${after.status}`);
    if (after.total < size) ctx.fail(`replay: total ${after.total}, expected ${size}`);
    if (sent.duplicates) ctx.fail(`replay: ${sent.duplicates} duplicate deliveries`);
    // the rest of the replay is not needed: cancel it and drop the endpoint's deliveries
    if (after.status === 'running') await ctx.call('POST', `${ctx.t}/replays/${replay.id}/cancel`).catch(() => undefined);
    await ctx.retire('replay', [target.id]);
  },
  rows(ctx) {
    const r = ctx.results.herald.replay;
    if (!r) return [];
    const lost = r.alone.lost + r.during.lost;
    return [
      row(
        `replay of ${fmt.int(r.size)} deliveries: live e2e p50 / p99 (${r.rate} ev/s)`,
        num('ms', [r.during.latency.p50, r.during.latency.p99]),
        num('ms', [r.alone.latency.p50, r.alone.latency.p99], 'alone'),
        num('pct', [r.p50Change, r.p99Change]),
        'p99 ≤ 250 ms',
        ctx.target('live e2e p99 ≤ 250 ms during a replay', r.during.latency.p99 <= 250 && lost === 0, r.during.latency.p99),
      ),
      row('  the replay meanwhile', num('int', r.replayPerSecond, 'dlv/s')),
      row('  live events lost', num('int', lost), '', '', '0', ctx.target('replay: 0 live events lost', lost === 0, lost)),
    ];
  },
};
