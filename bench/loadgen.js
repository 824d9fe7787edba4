'use strict';
// The measuring process: the load generator and the parts' ceilings run here, in a process of their own,
// so that the orchestrator (bookkeeping, polling the receiver) never competes with them. The orchestrator
// sends commands over IPC (see `measure` in run.js) and gets the results back; progress lines come as {log}.
const { openLoop, closedLoop } = require('./load');
const { findKnee } = require('./knee');
const ceilings = require('./ceilings');
const { openCommitProbe, commitNote } = require('./commit-probe');

/** Request bodies are described, not sent as functions: a fixed body, or events with the publish time in `t`. */
function bodyMaker(spec) {
  if (spec.fixed !== undefined) return () => spec.fixed;
  const { types, warm, pad } = spec.events;
  return (i, at) => JSON.stringify({ eventType: types[i % types.length], payload: { t: at, ...(warm ? { w: 1 } : {}), seq: i, pad } });
}

const say = (text) => process.send({ log: text });

/**
 * With `url` (the bench database), every measurement `run` makes through `probe` has the commit probe beside it
 * (see commit-probe.js); without, `probe` runs it alone.
 */
async function besideCommits(url, run) {
  if (!url) return run((measure) => measure());
  const commits = await openCommitProbe(url);
  try {
    return await run(commits.beside);
  } finally {
    await commits.close();
  }
}

/** A knee step that falls behind gives up its unsent requests this long after its schedule ends (it failed anyway). */
const KNEE_GRACE_MS = 5000;
let bull = null;

const COMMANDS = {
  open: (m) => besideCommits(m.commitProbe, (probe) => probe(() => openLoop({ ...m.load, makeBody: bodyMaker(m.load.body) }))),
  closed: (m) => closedLoop(m.load),
  /** The knee of an HTTP route: open loop at rising rates, each for stepMs. */
  knee: (m) =>
    besideCommits(m.commitProbe, (probe) =>
      findKnee(
        async (rate) => {
          const r = await probe(() => openLoop({ ...m.load, rate, durationMs: m.stepMs, giveUpAfterMs: KNEE_GRACE_MS, makeBody: bodyMaker(m.load.body) }));
          return r.commits ? { ...r, extra: { commits: r.commits, note: commitNote(r.commits) } } : r;
        },
        { ...m.knee, log: say },
      ),
    ),
  pgInsert: (m) => ceilings.pgInsert(m.args),
  attemptWrite: (m) => ceilings.attemptWrite(m.args),
  bull: (m) => ceilings.bull(m.args),
  undici: (m) => ceilings.undiciPost(m.args),
  bullKnee: async (m) => {
    bull = await ceilings.openBull(m.args);
    try {
      return await findKnee((rate) => bull.step(rate, m.stepMs), { ...m.knee, log: say });
    } finally {
      await bull.close();
      bull = null;
    }
  },
  undiciKnee: async (m) => {
    const u = ceilings.openUndici(m.args);
    try {
      return await findKnee((rate) => u.step(rate, m.stepMs), { ...m.knee, log: say });
    } finally {
      await u.close();
    }
  },
};

process.on('message', (m) => {
  const command = COMMANDS[m.cmd];
  if (!command) return process.send({ rid: m.rid, error: `unknown command ${m.cmd}` });
  Promise.resolve()
    .then(() => command(m))
    .then(
      (result) => process.send({ rid: m.rid, result }),
      (error) => process.send({ rid: m.rid, error: error.stack || error.message }),
    );
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
