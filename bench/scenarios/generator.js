'use strict';
// The load generator's own ceiling, measured first: the same generator (in its own process) against a
// trivial server. A rate above its knee cannot be held by the generator itself, so a figure measured
// there is reported as the generator's limit, not as Herald's.
const path = require('node:path');
const { spawnNode, waitFor } = require('../lib');
const { num, row } = require('../report');
const { KNEE_START } = require('../knee');

module.exports = {
  name: 'load generator',
  needs: 'none',
  async run(ctx) {
    const { P } = ctx;
    ctx.log('load generator (own process) against a trivial HTTP server');
    const server = spawnNode(path.join(__dirname, '..', 'trivial-server.js'), { env: { PORT: String(ctx.PORTS.trivial) }, name: 'trivial' });
    ctx.procs.trivial = server;
    await waitFor('the trivial server', () => {
      if (!server.alive()) throw new Error(server.output());
      return server.output().includes('ready');
    }, 30000, 50);
    const origin = `http://127.0.0.1:${ctx.PORTS.trivial}`;
    const headers = { 'content-type': 'application/json' };
    const body = ctx.ingestBody('bench.ingest');
    const max = await ctx.measure('closed', { load: { url: `${origin}/`, connections: P.ingestConns, durationS: P.measureS, headers, body } });
    ctx.log(`  closed loop (autocannon): ${Math.round(max.rate)} req/s`);
    const knee = await ctx.measure('knee', {
      load: { origin, path: '/', headers, body: { fixed: body } },
      stepMs: P.kneeStepS * 1000,
      knee: { startRate: max.rate * KNEE_START, p99Ms: P.kneeP99Ms, maxSteps: P.kneeMaxSteps },
    });
    await server.stop();
    ctx.results.ceilings.generator = { max, knee };
    ctx.log(`  open-loop knee: ${knee.knee === null ? 'none held' : `${knee.knee} req/s`}`);
  },
  rows(ctx) {
    const g = ctx.results.ceilings.generator;
    if (!g) return [];
    return [
      row('(ceiling) load generator vs trivial server: max / knee', '', num('int', [g.max.rate, g.knee.knee], 'req/s')),
    ];
  },
};

/** The generator's knee, or null if not measured. */
module.exports.generatorKnee = (ctx) => ctx.results.ceilings.generator?.knee?.knee ?? null;
/** A note for a rate the generator cannot hold: such a figure is the generator's, not Herald's. */
module.exports.beyondGenerator = (ctx, rate) => {
  const g = module.exports.generatorKnee(ctx);
  return g !== null && rate > g * 0.9 ? ' [at the generator\'s own knee: not Herald\'s figure]' : '';
};
