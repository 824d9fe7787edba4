'use strict';
// Preloaded (`node -r bench/prof-hook.js dist/main.js`) when the bench runs with --profile: a V8 CPU
// profile of this process, and a sampled profile of what it allocates (collected or not: what the garbage
// collector's share of the CPU profile is spent on), started and stopped by the bench over IPC so that they cover
// one phase only.
// (`--cpu-prof` writes only on a normal exit; Nest's shutdown hooks end the process by re-raising the signal.)
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

/** A sample every 16 KiB allocated on average, kept whether or not the object was collected since. */
const HEAP_SAMPLING = { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };

if (process.send) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  const dir = process.env.BENCH_PROFILE_DIR || '.';
  process.on('message', (m) => {
    if (!m || !m.prof) return;
    if (m.prof === 'start') session.post('HeapProfiler.startSampling', HEAP_SAMPLING, () => session.post('Profiler.start', () => process.send({ rid: m.rid, ok: true })));
    else if (m.prof === 'stop')
      session.post('Profiler.stop', (err, result) => {
        const file = path.join(dir, `${m.label}.cpuprofile`);
        if (!err) fs.writeFileSync(file, JSON.stringify(result.profile));
        session.post('HeapProfiler.stopSampling', (heapErr, heap) => {
          const heapFile = path.join(dir, `${m.label}.heapprofile`);
          if (!heapErr) fs.writeFileSync(heapFile, JSON.stringify(heap.profile));
          process.send({ rid: m.rid, ok: !err, file, heapFile: heapErr ? null : heapFile, error: err && err.message });
        });
      });
  });
  if (process.channel) process.channel.unref();
}
