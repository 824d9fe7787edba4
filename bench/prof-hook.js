'use strict';
// Preloaded (`node -r bench/prof-hook.js dist/main.js`) when the bench runs with --profile: a V8 CPU
// profile of this process, started and stopped by the bench over IPC so that it covers one phase only.
// (`--cpu-prof` writes only on a normal exit; Nest's shutdown hooks end the process by re-raising the signal.)
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

if (process.send) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  const dir = process.env.BENCH_PROFILE_DIR || '.';
  process.on('message', (m) => {
    if (!m || !m.prof) return;
    if (m.prof === 'start') session.post('Profiler.start', () => process.send({ rid: m.rid, ok: true }));
    else if (m.prof === 'stop')
      session.post('Profiler.stop', (err, result) => {
        const file = path.join(dir, `${m.label}.cpuprofile`);
        if (!err) fs.writeFileSync(file, JSON.stringify(result.profile));
        process.send({ rid: m.rid, ok: !err, file, error: err && err.message });
      });
  });
  if (process.channel) process.channel.unref();
}
