'use strict';
// What every scenario works with: the settings of the run, the processes (Herald's API and worker, the
// receiver, the measuring process), the tenant and its endpoints, and the helpers to publish and wait.
// bench/run.js builds one `ctx` per run and hands it to each scenario module in bench/scenarios/.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const { shardOf, ROOT, sleep, now, wallNow, portFree, waitFor, http, spawnNode, ask, deleteKeys, countKeys, dbUrl, fmt } = require('./lib');

class Refusal extends Error {}

function settings({ smoke, profile }) {
  const P = smoke
    ? { warmS: 1, measureS: 2, ingestConns: 16, batchConns: 4, drain: 1000, e2eWarmS: 1, e2eS: 3, fanoutEvents: 4, throttledBacklog: 300, pgMs: 1500, bullJobs: 2000, undiciMs: 1500, settleMs: 20000 }
    : { warmS: 3, measureS: 10, ingestConns: 32, batchConns: 8, drain: 50000, e2eWarmS: 5, e2eS: 30, fanoutEvents: 200, throttledBacklog: 20000, pgMs: 8000, bullJobs: 50000, undiciMs: 8000, settleMs: 60000 };
  Object.assign(P, {
    fanoutEndpoints: 50,
    batchSize: 100,
    throttleRate: 5,
    concurrency: 100, // in flight for the Bull and undici ceilings (their throughput does not grow past it)
    shards: 8, // HERALD_SHARDS default
    // the knee: open-loop steps of kneeStepS each, p99 bound kneeP99Ms
    kneeStepS: smoke ? 1 : 20,
    kneeP99Ms: 50,
    kneeMaxSteps: smoke ? 1 : 8,
  });
  const base = Number(process.env.BENCH_PORT_BASE || 4710);
  const prefix = process.env.BENCH_QUEUE_PREFIX || 'herald-bench';
  return {
    P,
    SMOKE: smoke,
    PROFILE: profile,
    ADMIN_URL: process.env.BENCH_ADMIN_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    PORTS: { api: base, worker: base + 1, receiver: base + 2, bare: base + 3, trivial: base + 4 },
    DATABASE: process.env.BENCH_DATABASE || 'herald_bench',
    PREFIX: prefix,
    CEILING_PREFIX: `${prefix}-ceiling`,
    ADMIN_KEY: `bench_admin_${randomBytes(16).toString('hex')}`,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROFILE_DIR: path.join(__dirname, 'profiles'),
    PAD: 'x'.repeat(900), // makes a single-event request body ~1 KB
  };
}

function createContext(options) {
  const T0 = now();
  const ctx = {
    ...settings(options),
    T0,
    procs: {},
    state: { createdDb: false, redisOwned: false, endpointIds: [], cleaning: null },
    results: { mode: options.smoke ? 'smoke' : 'full', params: null, ceilings: {}, knees: {}, composed: {}, herald: {}, failures: [], targets: [] },
    log: (...a) => console.log(`[${((now() - T0) / 1000).toFixed(1).padStart(6)} s]`, ...a),
  };
  ctx.results.params = ctx.P;
  ctx.fail = (message) => {
    ctx.results.failures.push(message);
    ctx.log(`FAIL: ${message}`);
  };
  ctx.dbUrl = () => dbUrl(ctx.ADMIN_URL, ctx.DATABASE);
  ctx.ingestBody = (eventType, extra = {}) => JSON.stringify({ eventType, payload: { t: 0, seq: 0, ...extra, pad: ctx.PAD } });
  return ctx;
}

async function preflight(ctx, admin, redis) {
  if (!fs.existsSync(path.join(ROOT, 'dist/main.js'))) throw new Refusal('dist/main.js is missing: run `npm run build` first');
  for (const [what, port] of Object.entries(ctx.PORTS)) if (!(await portFree(port))) throw new Refusal(`port ${port} (${what}) is taken; set BENCH_PORT_BASE to use other ports`);
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [ctx.DATABASE]);
  if (exists.rowCount) throw new Refusal(`database ${ctx.DATABASE} exists (another bench running, or a crashed one: DROP DATABASE ${ctx.DATABASE} WITH (FORCE)); set BENCH_DATABASE to use another`);
  const keys = await countKeys(redis, `${ctx.PREFIX}*`);
  if (keys) throw new Refusal(`Redis has ${keys} keys under "${ctx.PREFIX}*" (another bench running, or a crashed one); set BENCH_QUEUE_PREFIX to use another`);
}

async function environment(admin, redis) {
  const pg = (await admin.query('SHOW server_version')).rows[0].server_version;
  const info = await redis.info('server');
  const cpus = os.cpus();
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    if (execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT }).toString().trim()) commit += ' (src modified)';
  } catch {
    /* not a git checkout */
  }
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpu: cpus[0] && cpus[0].model,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: pg,
    redis: (/redis_version:(\S+)/.exec(info) || [])[1],
    herald: require(path.join(ROOT, 'package.json')).version,
    commit,
    // other work on the machine skews every figure: the load average before and after the run is recorded
    loadAverageAtStart: os.loadavg().map((v) => +v.toFixed(2)),
  };
}

function heraldEnv(ctx, extra) {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: ctx.dbUrl(),
    REDIS_URL: ctx.REDIS_URL,
    HERALD_ADMIN_KEY: ctx.ADMIN_KEY,
    HERALD_ENCRYPTION_KEY: ctx.ENCRYPTION_KEY,
    HERALD_QUEUE_PREFIX: ctx.PREFIX,
    HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    HERALD_LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ...extra,
  };
}

/** Prepares the database and starts the receiver and the measuring process; `ctx` gains rx and measure. */
async function setUp(ctx, admin, redis) {
  ctx.admin = admin;
  ctx.redis = redis;
  await preflight(ctx, admin, redis);
  ctx.state.redisOwned = true;
  ctx.results.environment = await environment(admin, redis);
  const e = ctx.results.environment;
  ctx.log(`Herald bench (${ctx.results.mode}) on ${e.cores} cores, ${e.memoryGiB} GiB, Node ${e.node}, PostgreSQL ${e.postgres}, Redis ${e.redis}`);
  if (ctx.PROFILE) fs.mkdirSync(ctx.PROFILE_DIR, { recursive: true });

  await admin.query(`CREATE DATABASE ${ctx.DATABASE}`);
  ctx.state.createdDb = true;
  const migrate = spawnNode(path.join(ROOT, 'dist/migrate.js'), { env: heraldEnv(ctx, {}), name: 'migrate' });
  const migrated = await migrate.exited;
  if (migrated.code !== 0) throw new Error(`migrations failed: ${migrate.output()}`);

  const receiver = await startChild(ctx, 'receiver', path.join(__dirname, 'receiver.js'), { BENCH_RECEIVER_PORT: String(ctx.PORTS.receiver) });
  ctx.rx = {
    stats: (tag, extra = {}) => ask(receiver.child, { cmd: 'stats', tag, ...extra }),
    reset: (...tags) => ask(receiver.child, { cmd: 'reset', tags }),
  };
  const loadgen = await startChild(ctx, 'loadgen', path.join(__dirname, 'loadgen.js'), {});
  loadgen.child.on('message', (m) => m && m.log && ctx.log(m.log));
  /** Runs a command in the measuring process (bench/loadgen.js); resolves to its result. */
  ctx.measure = async (cmd, message) => {
    const reply = await ask(loadgen.child, { cmd, ...message }, 30 * 60 * 1000);
    if (reply.error) throw new Error(`${cmd}: ${reply.error}`);
    return reply.result;
  };
  ctx.rurl = (p) => `http://127.0.0.1:${ctx.PORTS.receiver}${p}`;
  ctx.waitUntil = (get, done, stallMs, quiet = false) => waitUntil(ctx, get, done, stallMs, quiet);
}

async function startChild(ctx, name, script, env) {
  const proc = spawnNode(script, { env: { NODE_ENV: 'production', ...env }, name, ipc: true });
  ctx.procs[name] = proc;
  await new Promise((resolve, reject) => {
    proc.child.once('message', resolve);
    proc.exited.then(() => reject(new Error(`${name} exited: ${proc.output()}`)));
  });
  return proc;
}

/** Starts Herald's API or worker from dist/; `extraEnv` adds to (or overrides) its settings, e.g. tracing on. */
async function startHerald(ctx, role, extraEnv = {}) {
  const port = role === 'api' ? ctx.PORTS.api : ctx.PORTS.worker;
  const env = heraldEnv(ctx, { ...(role === 'api' ? { HERALD_ROLE: 'api', PORT: String(port), HERALD_METRICS_PORT: String(port) } : { HERALD_ROLE: 'worker', PORT: String(port), HERALD_METRICS_PORT: String(port), HERALD_MIGRATE: 'false' }), ...extraEnv });
  if (ctx.PROFILE) env.BENCH_PROFILE_DIR = ctx.PROFILE_DIR;
  const proc = spawnNode(path.join(ROOT, 'dist/main.js'), { env, name: `herald-${role}`, ipc: ctx.PROFILE, execArgv: ctx.PROFILE ? ['-r', path.join(__dirname, 'prof-hook.js')] : [] });
  ctx.procs[role] = proc;
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`herald ${role} to start`, async () => {
    if (!proc.alive()) throw new Error(`exited: ${proc.output().slice(-1500)}`);
    const res = await http('GET', `${url}/health/ready`).catch(() => null);
    return res && res.status === 200;
  }, 60000, 100);
  proc.exited.then(({ code, signal }) => {
    if (!ctx.state.cleaning && !proc.planned) ctx.fail(`herald ${role} exited unexpectedly (${code ?? signal}): ${proc.output().slice(-1500)}`);
  });
  return url;
}

async function stopWorker(ctx) {
  const w = ctx.procs.worker;
  if (!w || !w.alive()) return;
  w.planned = true;
  await w.stop(25000);
}

async function profile(ctx, role, action, label) {
  if (!ctx.PROFILE || !ctx.procs[role]) return;
  const reply = await ask(ctx.procs[role].child, { prof: action, label }, 60000);
  if (action === 'stop') {
    ctx.log(`profile written: ${reply.file}${reply.heapFile ? ` and ${path.basename(reply.heapFile)}` : ''}`);
    (ctx.results.profiles ??= []).push(path.relative(ROOT, reply.file));
    if (reply.heapFile) ctx.results.profiles.push(path.relative(ROOT, reply.heapFile));
  }
}

/** Starts the API and makes the tenant; `ctx` gains api, call, t, endpoint, endpointSet and publishBatches. */
async function startApi(ctx) {
  ctx.log('starting Herald API');
  const api = await startHerald(ctx, 'api');
  const auth = { authorization: `Bearer ${ctx.ADMIN_KEY}` };
  const call = async (method, p, body) => {
    const res = await http(method, api + p, body, auth);
    if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const tenant = await call('POST', '/v1/tenants', { name: 'bench' });
  const t = `/v1/tenants/${tenant.id}`;
  Object.assign(ctx, { api, auth, call, tenant, t, jsonHeaders: { ...auth, 'content-type': 'application/json' } });
  ctx.endpoint = async (p, eventTypes, extra = {}) => {
    const e = await call('POST', `${t}/endpoints`, { url: ctx.rurl(p), eventTypes, ...extra });
    ctx.state.endpointIds.push(e.id);
    return e;
  };
  // Herald shards by endpoint: a set has one endpoint per shard, so that traffic reaches every shard.
  ctx.endpointSet = async (name) => {
    const byShard = new Map();
    for (let n = 0; byShard.size < ctx.P.shards && n < 200; n++) {
      const e = await ctx.endpoint(`/${name}/${n}`, [`bench.${name}.${n}`]);
      const shard = shardOf(e.id, ctx.P.shards);
      if (!byShard.has(shard)) byShard.set(shard, { id: e.id, n, shard, type: `bench.${name}.${n}`, tag: `${name}/${n}` });
    }
    return [...byShard.values()].sort((a, b) => a.shard - b.shard);
  };
  /** Publishes `count` events through the batch route, 4 requests in flight; returns the deliveries created. */
  ctx.publishBatches = async (label, count, eventTypeOf) => {
    let next = 0;
    let deliveries = 0;
    const poster = async () => {
      while (next < count) {
        const n = Math.min(ctx.P.batchSize, count - next);
        const from = next;
        next += n;
        const body = { events: Array.from({ length: n }, (_, i) => ({ eventType: eventTypeOf(from + i), payload: { t: wallNow(), seq: i, pad: ctx.PAD } })) };
        const res = await http('POST', `${api}${t}/events/batch`, body, auth);
        if (res.status !== 202) throw new Error(`${label} batch answered ${res.status}: ${JSON.stringify(res.body)}`);
        for (const e of res.body.data) deliveries += e.deliveryCount;
      }
    };
    await Promise.all([poster(), poster(), poster(), poster()]);
    return deliveries;
  };
  /** The delivery queues' key prefixes: both lanes (live, bulk) of every shard. */
  ctx.queueNames = () => Array.from({ length: ctx.P.shards }, (_, i) => [`${ctx.PREFIX}:{deliveries.${i}}`, `${ctx.PREFIX}:{deliveries.${i}}.bulk`]).flat();
  const jobsIn = async (...lists) => {
    let n = 0;
    for (const q of ctx.queueNames()) for (const list of lists) n += await ctx.redis.llen(`${q}:${list}`);
    return n;
  };
  /** Jobs waiting in the delivery queues, all shards and lanes. */
  ctx.waiting = () => jobsIn('wait');
  /** Jobs waiting or running in the delivery queues, all shards and lanes (delayed ones cost nothing until due). */
  ctx.queued = () => jobsIn('wait', 'active');
  /**
   * Deletes the endpoints (their deliveries are dropped by the worker) and waits for the queues to empty, then for the
   * worker to hold no job and send nothing: a job it took into its budget's line is claimed after the queues are
   * empty, and would otherwise run beside the next scenario (or deadlock with the tables' TRUNCATE).
   */
  ctx.retire = async (label, endpointIds) => {
    for (const id of endpointIds) await call('DELETE', `${t}/endpoints/${id}`);
    const left = await waitFor(`${label}: the queues to empty`, async () => (await ctx.queued()) === 0, ctx.P.settleMs * 2, 200).then(() => 0, async () => ctx.queued());
    if (left) ctx.log(`  (${label}: ${left} jobs still queued after ${(ctx.P.settleMs * 2) / 1000} s; the next scenario shares the worker with them)`);
    const busy = await waitFor(`${label}: the worker to go idle`, async () => (await workerBusy(ctx)) === 0, ctx.P.settleMs * 2, 200).then(() => 0, async () => workerBusy(ctx));
    if (busy) ctx.log(`  (${label}: the worker still holds or sends ${busy} attempts after ${(ctx.P.settleMs * 2) / 1000} s; the next scenario shares it with them)`);
  };
}

/** A running Herald process's /metrics as { "name{labels}": value }; null when it is not running or does not answer. */
async function processMetrics(ctx, role) {
  const proc = ctx.procs[role];
  if (!proc || !proc.alive()) return null;
  const res = await http('GET', `http://127.0.0.1:${ctx.PORTS[role]}/metrics`).catch(() => null);
  if (!res || res.status !== 200 || typeof res.body !== 'string') return null;
  const metrics = {};
  for (const line of res.body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    metrics[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return metrics;
}

/** Jobs the worker holds in its budget's line plus requests it has in flight (its /metrics); 0 without a worker. */
async function workerBusy(ctx) {
  const m = await processMetrics(ctx, 'worker');
  return m ? (m.herald_worker_jobs_held || 0) + (m.herald_attempts_in_flight || 0) : 0;
}

/** Polls `get` until `done(value)`, or until it has made no progress for `stallMs`; returns the last value. */
async function waitUntil(ctx, get, done, stallMs, quiet) {
  let last = await get();
  let lastChange = Date.now();
  let lastCount = last.count;
  while (!done(last)) {
    if (Date.now() - lastChange > stallMs) {
      if (!quiet) ctx.log(`  (gave up waiting: no progress for ${stallMs / 1000} s)`);
      break;
    }
    await sleep(50);
    last = await get();
    if (last.count !== lastCount) {
      lastCount = last.count;
      lastChange = Date.now();
    }
  }
  return last;
}

/**
 * The tables that grow with traffic. Between scenarios they are emptied (TRUNCATE, then VACUUM ANALYZE), so that
 * no scenario inherits the rows, dead tuples and autovacuum of the one before it: the queues are empty by then
 * (each scenario retires its endpoints and waits), so nothing refers to these rows any more. Tenants, endpoints,
 * sources and event types stay.
 */
const GROWING_TABLES = ['attempts', 'deliveries', 'events', 'event_idempotency_keys', 'ordering_lines', 'replays', 'source_requests', 'endpoint_stat_granules', 'endpoint_stat_marks', 'api_idempotency'];

/**
 * TRUNCATE takes its tables' locks one after another, so it can deadlock with a worker's background statement that
 * holds one of them and waits for another (a stats rollup writing granules while it reads attempts, the last
 * attempt records): PostgreSQL then rolls the TRUNCATE back, whole, and it is simply run again.
 */
async function truncate(ctx, db, label) {
  for (let tries = 1; ; tries++) {
    try {
      return await db.query(`TRUNCATE ${GROWING_TABLES.join(', ')}`);
    } catch (error) {
      if (error.code !== '40P01' || tries === 5) throw error;
      ctx.log(`  (after ${label}: emptying the tables deadlocked with Herald's own statements, try ${tries}; again)`);
      await sleep(200 * tries);
    }
  }
}

async function resetData(ctx, label) {
  const started = now();
  const db = new Client({ connectionString: ctx.dbUrl() });
  await db.connect();
  try {
    // a statement that waits on a lock the worker holds gives up rather than hang the run
    await db.query("SET lock_timeout = '30s'");
    await truncate(ctx, db, label);
    await db.query('VACUUM ANALYZE');
    ctx.log(`  (after ${label}: traffic tables emptied and vacuumed in ${fmt.ms(now() - started)})`);
  } finally {
    await db.end();
  }
}

async function cleanUp(ctx) {
  const { state } = ctx;
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    for (const name of ['worker', 'api', 'bare', 'trivial']) {
      const p = ctx.procs[name];
      if (p && p.alive()) await p.stop(name === 'worker' ? 25000 : 10000).catch(() => undefined);
    }
    for (const name of ['receiver', 'loadgen']) {
      const p = ctx.procs[name];
      if (p && p.alive()) await p.stop(3000);
    }
    if (state.createdDb && ctx.admin) {
      await ctx.admin.query(`DROP DATABASE IF EXISTS ${ctx.DATABASE} WITH (FORCE)`).catch((e) => console.error(`could not drop ${ctx.DATABASE}: ${e.message}`));
    }
    if (state.redisOwned && ctx.redis) {
      try {
        await deleteKeys(ctx.redis, `${ctx.PREFIX}:*`);
        await deleteKeys(ctx.redis, `${ctx.CEILING_PREFIX}:*`);
        // keys outside the prefix that name our endpoints (e.g. rate-limit slots `herald:rl:{ep_…}`)
        const ours = new Set(state.endpointIds);
        let cursor = '0';
        do {
          const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', '*ep_*', 'COUNT', 1000);
          cursor = next;
          const mine = keys.filter((k) => [...(k.match(/ep_[0-9A-Z]{26}/g) || [])].some((id) => ours.has(id)));
          if (mine.length) await ctx.redis.unlink(...mine);
        } while (cursor !== '0');
      } catch (e) {
        console.error(`could not clean Redis: ${e.message}`);
      }
    }
    await ctx.admin?.end().catch(() => undefined);
    ctx.redis?.disconnect();
  })();
  return state.cleaning;
}

module.exports = { Refusal, createContext, setUp, startApi, startHerald, stopWorker, profile, resetData, cleanUp, heraldEnv, processMetrics };
