'use strict';
// The disk under every publish: an empty commit every 20 ms on a connection of its own, beside a measurement.
// Herald answers a publish once its event is committed, so a WAL flush that stalls holds every publish of that
// moment, whatever Herald does; this probe tells such a stall from Herald's own latency. Its load (50 small commits
// a second) is part of the measurement.
const { Client } = require('pg');
const { summarize } = require('./lib');
const { num, row } = require('./report');

const PERIOD_MS = 20;
/** A commit slower than this is a stall: the bound the latency targets set for a whole request. */
const STALL_MS = 50;

async function openCommitProbe(url) {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz NOT NULL DEFAULT now())');
  /** Runs `measure()` with the probe beside it; resolves to its result with `commits` (the probe's summary). */
  const beside = async (measure) => {
    const times = [];
    let on = true;
    const loop = (async () => {
      while (on) {
        const started = performance.now();
        await client.query('INSERT INTO bench_commit_probe DEFAULT VALUES');
        times.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, PERIOD_MS));
      }
    })();
    let result;
    try {
      result = await measure();
    } finally {
      on = false;
      await loop;
    }
    // after the loop's last commit: a measurement shorter than one commit still has a sample
    return { ...result, commits: describe(times) };
  };
  return { beside, close: () => client.end() };
}

function describe(times) {
  const { p50, p99, max } = summarize(times);
  return { count: times.length, p50, p99, max, stalls: times.filter((t) => t > STALL_MS).length };
}

/** "slowest empty commit beside it 335.5 ms (2 > 50 ms)", for a log line. */
function commitNote(commits) {
  if (!commits) return '';
  return `slowest empty commit beside it ${commits.max.toFixed(1)} ms${commits.stalls ? ` (${commits.stalls} > ${STALL_MS} ms)` : ''}`;
}

/** What the probe is, for a row's label: "empty commit beside it (every 20 ms, own connection)". */
const probeLabel = (whom = 'it') => `empty commit beside ${whom} (every ${PERIOD_MS} ms, own connection)`;

/** The probe's rows under a measurement's latency row. */
function commitRows(commits) {
  if (!commits) return [];
  return [
    row(`    ${probeLabel()}: p50 / p99 / slowest`, num('ms', [commits.p50, commits.p99, commits.max])),
    row(`    empty commits slower than ${STALL_MS} ms (disk stalls)`, num('int', commits.stalls)),
  ];
}

module.exports = { openCommitProbe, commitNote, commitRows, probeLabel, STALL_MS };
