'use strict';
// Scale-out: deliveries/s of a backlog drained by 1, 2 and 4 worker processes, on a single Redis and on a
// Redis Cluster (3 masters + 3 replicas), the machine's core count beside them (bench/scale.js does the work,
// with a database, processes and a cluster of its own). Opt-in: it starts up to 14 processes and takes
// ~6-8 min in full on a 2-core box, so it runs only when named: `node bench/run.js --only scale [--smoke]`
// (--smoke: 400 deliveries, 1 and 2 workers, ~1-2 min).
const os = require('node:os');
const { num, row } = require('../report');
const { scale } = require('../scale');

module.exports = {
  name: 'scale',
  needs: 'none',
  optIn: true,
  async run(ctx) {
    ctx.log(`scale: deliveries/s by worker processes, single Redis and Redis Cluster (${os.cpus().length} cores)`);
    const { results, cores } = await scale(ctx.SMOKE ? ['--smoke'] : [], { log: ctx.log });
    ctx.results.herald.scale = { cores, results };
  },
  rows(ctx) {
    const s = ctx.results.herald?.scale;
    if (!s) return [];
    return s.results.map((r) =>
      row(`scale: ${r.redis}, ${r.workers} worker process(es), ${s.cores} cores`, num('int', r.perSecond, 'deliveries/s'), '', num('int', r.perSecond / r.workers, '/s per process')),
    );
  },
};
