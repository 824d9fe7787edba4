#!/usr/bin/env node
'use strict';
/*
 * Herald benchmark: Herald against the ceilings of its own parts, on this machine, in one run.
 *
 *   npm run build && node bench/run.js [--smoke] [--profile] [--strict] [--runs N]
 *
 *   --smoke    every part tiny; exits non-zero if anything fails (CI)
 *   --profile  CPU-profiles the API (ingest) and the worker (drain, end to end, slow receivers, hot endpoint) into
 *              bench/profiles/, with a sampled profile of what each allocates beside (.heapprofile; the
 *              sampling costs the process a few % of its throughput)
 *   --strict   also exit non-zero when a performance target is missed (full run)
 *   --only a,b only the scenarios with these names (bench/scenarios/index.js), to work on one; the
 *              figures of the others are missing from the table. `--only scale` is the only way to run
 *              the scale-out scenario (1, 2, 4 worker processes on a single Redis and on a Redis Cluster):
 *              it is opt-in, as it takes ~6-8 min in full on a 2-core box
 *   --runs N   the whole bench N times in a row (each in a process of its own); the table shows the median
 *              and spread of every figure, a target passes only if it passed in every run, and a run whose
 *              end-to-end p99 is 5× another's is reported as a failure to explain
 *
 * The scenarios are modules in bench/scenarios/ (see its README.md); the load generator and the parts'
 * ceilings run in a measuring process of their own (bench/loadgen.js), never in this orchestrator.
 *
 * Environment: BENCH_ADMIN_DATABASE_URL (a database on the PostgreSQL server to use; default
 * postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (redis://127.0.0.1:6379), BENCH_PORT_BASE
 * (4710: API, +1 worker, +2 receiver, +3 bare Nest, +4 trivial server), BENCH_DATABASE (herald_bench),
 * BENCH_QUEUE_PREFIX (herald-bench), BENCH_SKIP_INGEST_KNEE (set: the ingest scenario skips its sustained knee, a
 * few minutes, for A/B runs of `--only ingest`). The run refuses to start if a port, the database or Redis keys under
 * the prefix are taken.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Client } = require('pg');
const Redis = require('ioredis');
const { now } = require('./lib');
const { Refusal, createContext, setUp, startApi, startHerald, stopWorker, profile, resetData, cleanUp, processMetrics } = require('./harness');
const { table, combine, row, num } = require('./report');
const scenarios = require('./scenarios');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const SMOKE = flag('--smoke');
const STRICT = flag('--strict');
const RUNS = Number(option('--runs') || 1);
const RUN_INDEX = option('--run'); // set on the child runs of --runs
const TMP = path.join(__dirname, 'tmp');
// a smoke run or a partial one (--only) never overwrites the full run's RESULTS.md and results.json
const suffix = SMOKE ? '.smoke' : option('--only') ? '.partial' : '';

// ------------------------------------------------------------------------------------------------ one run

async function runOnce() {
  const ctx = createContext({ smoke: SMOKE, profile: flag('--profile') });
  ctx.startWorker = (extraEnv) => startHerald(ctx, 'worker', extraEnv);
  ctx.stopWorker = () => stopWorker(ctx);
  ctx.profile = (role, action, label) => profile(ctx, role, action, label);
  ctx.target = (name, ok, detail) => {
    ctx.results.targets.push({ name, ok, detail });
    return ok ? 'PASS' : 'MISS';
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: cleaning up`);
      cleanUp(ctx).finally(() => process.exit(130));
    });
  }

  const code = await main(ctx).then(
    () => 0,
    (error) => {
      if (error instanceof Refusal) {
        console.error(`bench: refusing to start: ${error.message}`);
        return 3;
      }
      ctx.fail(`aborted: ${error.stack || error.message}`);
      return 1;
    },
  );
  if (code === 3) {
    await ctx.admin?.end().catch(() => undefined);
    ctx.redis?.disconnect();
    process.exit(3);
  }
  const rows = evaluate(ctx);
  ctx.log('cleaning up');
  await cleanUp(ctx);
  const elapsed = (now() - ctx.T0) / 1000;
  const { results } = ctx;
  results.elapsedSeconds = elapsed;
  if (results.environment) results.environment.loadAverageAtEnd = os.loadavg().map((v) => +v.toFixed(2));
  results.rows = rows;
  console.log(`\n${table(rows).text}\n`);
  if (RUN_INDEX) {
    fs.mkdirSync(TMP, { recursive: true });
    fs.writeFileSync(path.join(TMP, `run-${RUN_INDEX}${suffix}.json`), JSON.stringify(results, null, 2));
  } else {
    writeReport(results, table(rows).md, [results]);
  }
  if (ctx.PROFILE && results.profiles) {
    const { summarise } = require('./prof-summary');
    for (const f of results.profiles) console.log(summarise(path.join(__dirname, '..', f), 20));
  }
  const missed = results.targets.filter((t) => !t.ok);
  console.log(`bench ${results.mode} run: ${elapsed.toFixed(0)} s, ${results.failures.length} failure(s), ${missed.length} target(s) missed${missed.length ? `: ${missed.map((m) => m.name).join('; ')}` : ''}`);
  process.exit(results.failures.length || code ? 1 : STRICT && missed.length ? 2 : 0);
}

async function main(ctx) {
  const admin = new Client({ connectionString: ctx.ADMIN_URL });
  admin.on('error', (e) => ctx.log(`PostgreSQL admin connection: ${e.message}`));
  await admin.connect();
  const redis = new Redis(ctx.REDIS_URL, { maxRetriesPerRequest: 2 });
  await setUp(ctx, admin, redis);
  const only = option('--only')?.split(',');
  for (const scenario of scenarios) {
    // An opt-in scenario (storage: minutes of loading; scale: processes and a Redis Cluster of its own) runs only when named.
    if (only ? !only.includes(scenario.name) : scenario.optIn) continue;
    if (scenario.needs !== 'none' && !ctx.api) await startApi(ctx);
    if (scenario.needs === 'worker' && !(ctx.procs.worker && ctx.procs.worker.alive())) await ctx.startWorker();
    try {
      await scenario.run(ctx);
    } catch (error) {
      // one scenario failing must not hide the others' figures
      ctx.fail(`${scenario.name}: ${error.stack || error.message}`);
    }
    (ctx.results.metrics ??= {})[scenario.name] = await heraldMetrics(ctx);
    // the next scenario starts on empty traffic tables, not on this one's rows and dead tuples
    if (ctx.api && !scenario.optIn) await resetData(ctx, scenario.name).catch((e) => ctx.fail(`emptying the tables after ${scenario.name}: ${e.message}`));
  }
}

/** Herald's own metrics (herald_*, without the process ones) from each running process, after a scenario. */
async function heraldMetrics(ctx) {
  const out = {};
  for (const role of ['api', 'worker']) {
    const metrics = await processMetrics(ctx, role);
    if (metrics) out[role] = Object.fromEntries(Object.entries(metrics).filter(([name]) => name.startsWith('herald_') && !name.startsWith('herald_process_') && !name.includes('_bucket{')));
  }
  return out;
}

/** The rows of every scenario: Herald's first, the parts' ceilings (measured first) last. */
function evaluate(ctx) {
  const ordered = [...scenarios.filter((s) => s.needs !== 'none'), ...scenarios.filter((s) => s.needs === 'none')];
  return ordered.flatMap((s) => {
    try {
      return s.rows(ctx);
    } catch (error) {
      ctx.fail(`${s.name}: its rows could not be computed (${error.message})`);
      return [];
    }
  });
}

// ------------------------------------------------------------------------------------------------ several runs

async function runSeveral() {
  fs.mkdirSync(TMP, { recursive: true });
  const args = argv.filter((a, i) => a !== '--runs' && argv[i - 1] !== '--runs');
  const runs = [];
  const t0 = now();
  for (let i = 1; i <= RUNS; i++) {
    console.log(`\n=== run ${i} of ${RUNS} ===`);
    const file = path.join(TMP, `run-${i}${suffix}.json`);
    fs.rmSync(file, { force: true });
    const code = await new Promise((resolve) => spawn(process.execPath, [__filename, ...args, '--run', String(i)], { stdio: 'inherit' }).once('exit', (c) => resolve(c)));
    if (code === 3) process.exit(3);
    if (!fs.existsSync(file)) {
      console.error(`run ${i} left no results (exit ${code})`);
      process.exit(1);
    }
    runs.push(JSON.parse(fs.readFileSync(file, 'utf8')));
  }
  const rows = combine(runs.map((r) => r.rows));
  const failures = runs.flatMap((r, i) => r.failures.map((f) => `run ${i + 1}: ${f}`));
  const targets = [];
  // the spread of end-to-end p99 over the runs, and any run 5× another: a failure to explain, not noise
  const p99s = runs.map((r) => r.herald?.e2e?.latency?.p99 ?? null);
  const known = p99s.filter((v) => v !== null);
  if (known.length > 1) {
    const lo = Math.min(...known);
    const hi = Math.max(...known);
    const med = [...known].sort((a, b) => a - b)[Math.floor(known.length / 2)];
    const spread = (hi - lo) / med;
    const ok = spread <= 0.3;
    targets.push({ name: `spread of e2e p99 over ${RUNS} runs ≤ 30 %`, ok, detail: p99s });
    rows.push(row(`spread of e2e p99 over ${RUNS} runs`, num('ms', p99s), '', num('pct', spread), '≤ 30 %', ok ? 'PASS' : 'MISS'));
    if (hi >= 5 * lo) failures.push(`end-to-end p99 of run ${p99s.indexOf(hi) + 1} (${hi.toFixed(0)} ms) is ${(hi / lo).toFixed(1)}× run ${p99s.indexOf(lo) + 1}'s (${lo.toFixed(0)} ms): a failure to explain, not noise to average`);
  }
  const combined = { mode: runs[0].mode, runs: RUNS, elapsedSeconds: (now() - t0) / 1000, environment: runs[0].environment, failures, targets, rows, perRun: runs };
  console.log(`\n=== median of ${RUNS} runs ===\n${table(rows).text}\n`);
  writeReport(combined, table(rows).md, runs);
  const missed = rows.filter((r) => r.verdict && r.verdict !== 'PASS');
  console.log(`bench ${combined.mode}, ${RUNS} runs: ${combined.elapsedSeconds.toFixed(0)} s, ${failures.length} failure(s), ${missed.length} target(s) missed in some run`);
  for (const f of failures) console.log(`  FAIL ${f}`);
  process.exit(failures.length ? 1 : STRICT && missed.length ? 2 : 0);
}

// ------------------------------------------------------------------------------------------------ report

function writeReport(results, md, runs) {
  fs.writeFileSync(path.join(__dirname, `results${suffix}.json`), JSON.stringify(results, null, 2));
  const e = results.environment || {};
  const several = runs.length > 1;
  const lines = [
    `# Herald benchmark (${results.mode}${several ? `, median of ${runs.length} consecutive runs` : ''})`,
    '',
    `${e.date} · ${e.cores} cores (${e.cpu}) · ${e.memoryGiB} GiB · ${e.os} · Node ${e.node} · PostgreSQL ${e.postgres} · Redis ${e.redis} · Herald ${e.herald} ${e.commit || ''} · took ${results.elapsedSeconds.toFixed(0)} s · load average ${runs.map((r) => `${(r.environment?.loadAverageAtStart || []).join(' ')} → ${(r.environment?.loadAverageAtEnd || []).join(' ')}`).join('; ')}`,
    '',
    'Herald runs from dist/ as one API and one worker process with its default settings (8 shards, worker budget 2 000 attempts, NODE_ENV=production, log level warn); PostgreSQL, Redis, the load generator (a process of its own) and the receiver share the same machine. Latencies under load come from an open-loop generator (fixed rate, measured from each request\'s scheduled time); "max" figures come from autocannon (closed loop). A knee is the highest open-loop rate whose p99 stays ≤ 50 ms for a whole step (20 s), stepped up by 15 % from 60 % of the closed-loop maximum; the generator\'s own knee against a trivial server is measured first, and a figure at or beyond it is marked as the generator\'s, not Herald\'s.' +
      (several ? ' Every figure is the median of the runs, with its spread ((max − min) / median); a target shows PASS only if every run met it.' : ''),
    '',
    md,
    '',
    results.failures.length ? `**Failures:**\n\n${results.failures.map((f) => `- ${f}`).join('\n')}\n` : 'No failures.',
    '',
    "Ceilings: bare NestJS 11 on Fastify with Herald's adapter settings parsing the same ~1 KB body and answering 202; PostgreSQL `INSERT … SELECT * FROM unnest(…)` of event + delivery rows into Herald's tables, 100 per transaction (and half the ingest connections per transaction: single-event ingest's group commit), 2 transactions in flight (as the publisher); attempt writes as the attempt recorder makes them (deliveries updated and attempt rows inserted in one statement, groups of 50, 2 in flight); Bull with Herald's 8 queues, shared connections, job options and job ids, `addBulk` in groups of 500 then no-op processors at concurrency 100; undici POSTing 1 KB to the bench receiver with 100 in flight over keep-alive. Composed ceiling of a path: 1 / Σ(1 / ceiling of each part on it).",
    '',
    `Full figures: \`bench/results${suffix}.json\`.`,
    '',
  ];
  fs.writeFileSync(path.join(__dirname, `RESULTS${suffix}.md`), lines.join('\n'));
}

if (RUNS > 1 && !RUN_INDEX) runSeveral();
else runOnce();
