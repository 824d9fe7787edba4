#!/usr/bin/env node
'use strict';
/*
 * Herald benchmark: Herald against the ceilings of its own parts, on this machine, in one run.
 *
 *   npm run build && node bench/run.js [--smoke] [--profile] [--strict]
 *
 *   --smoke    every part tiny (< 1 min); exits non-zero if anything fails (CI)
 *   --profile  CPU-profiles the API (ingest) and the worker (drain, end to end) into bench/profiles/
 *   --strict   also exit non-zero when a performance target is missed (full run)
 *
 * Environment: BENCH_ADMIN_DATABASE_URL (a database on the PostgreSQL server to use; default
 * postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (redis://127.0.0.1:6379), BENCH_PORT_BASE
 * (4710: API, +1 worker, +2 receiver, +3 bare Nest), BENCH_DATABASE (herald_bench), BENCH_QUEUE_PREFIX
 * (herald-bench). The run refuses to start if a port, the database or Redis keys under the prefix are taken.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const Redis = require('ioredis');
const { shardOf, ROOT, sleep, now, wallNow, portFree, waitFor, http, spawnNode, ask, deleteKeys, countKeys, dbUrl, fmt } = require('./lib');
const { openLoop, closedLoop } = require('./load');
const ceilings = require('./ceilings');

/** A rate limit far above what one box can deliver: measures the limiter's own cost. */
const NON_BINDING_LIMIT = 100000;
const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke');
const PROFILE = argv.includes('--profile');
const STRICT = argv.includes('--strict');
// --scenario scale: worker processes × single Redis / Redis Cluster (bench/scale.js), on its own.
if (argv[argv.indexOf('--scenario') + 1] === 'scale' && argv.includes('--scenario')) {
  require('./scale')
    .scale(argv)
    .then((code) => process.exit(code), (error) => (console.error(error.stack || error), process.exit(1)));
  return;
}

const P = SMOKE
  ? { warmS: 1, measureS: 2, ingestConns: 16, batchConns: 4, drain: 1000, e2eWarmS: 1, e2eS: 3, fanoutEvents: 4, throttledBacklog: 300, pgMs: 1500, bullJobs: 2000, undiciMs: 1500, settleMs: 20000 }
  : { warmS: 3, measureS: 10, ingestConns: 32, batchConns: 8, drain: 50000, e2eWarmS: 5, e2eS: 30, fanoutEvents: 200, throttledBacklog: 20000, pgMs: 8000, bullJobs: 50000, undiciMs: 8000, settleMs: 60000 };
P.fanoutEndpoints = 50;
P.batchSize = 100;
P.throttleRate = 5;
P.concurrency = 100; // HERALD_WORKER_CONCURRENCY default
P.shards = 8; // HERALD_SHARDS default

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const BASE = Number(process.env.BENCH_PORT_BASE || 4710);
const PORTS = { api: BASE, worker: BASE + 1, receiver: BASE + 2, bare: BASE + 3 };
const DATABASE = process.env.BENCH_DATABASE || 'herald_bench';
const PREFIX = process.env.BENCH_QUEUE_PREFIX || 'herald-bench';
const CEILING_PREFIX = `${PREFIX}-ceiling`;
const ADMIN_KEY = `bench_admin_${randomBytes(16).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const PROFILE_DIR = path.join(__dirname, 'profiles');
const PAD = 'x'.repeat(900); // makes a single-event request body ~1 KB

const log = (...a) => console.log(`[${((now() - T0) / 1000).toFixed(1).padStart(6)} s]`, ...a);
const T0 = now();

const state = { procs: {}, createdDb: false, redisOwned: false, endpointIds: [], cleaning: null };
const results = { mode: SMOKE ? 'smoke' : 'full', params: P, ceilings: {}, herald: {}, failures: [], targets: [] };
const fail = (message) => {
  results.failures.push(message);
  log(`FAIL: ${message}`);
};

// ------------------------------------------------------------------------------------------------ setup

async function preflight(admin, redis) {
  if (!fs.existsSync(path.join(ROOT, 'dist/main.js'))) throw new Refusal('dist/main.js is missing: run `npm run build` first');
  for (const [what, port] of Object.entries(PORTS)) if (!(await portFree(port))) throw new Refusal(`port ${port} (${what}) is taken; set BENCH_PORT_BASE to use other ports`);
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (exists.rowCount) throw new Refusal(`database ${DATABASE} exists (another bench running, or a crashed one: DROP DATABASE ${DATABASE} WITH (FORCE)); set BENCH_DATABASE to use another`);
  const keys = await countKeys(redis, `${PREFIX}*`);
  if (keys) throw new Refusal(`Redis has ${keys} keys under "${PREFIX}*" (another bench running, or a crashed one); set BENCH_QUEUE_PREFIX to use another`);
}

class Refusal extends Error {}

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

function heraldEnv(extra) {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl(ADMIN_URL, DATABASE),
    REDIS_URL,
    HERALD_ADMIN_KEY: ADMIN_KEY,
    HERALD_ENCRYPTION_KEY: ENCRYPTION_KEY,
    HERALD_QUEUE_PREFIX: PREFIX,
    HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    HERALD_LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ...extra,
  };
}

async function startHerald(role) {
  const port = role === 'api' ? PORTS.api : PORTS.worker;
  const env = heraldEnv(role === 'api' ? { HERALD_ROLE: 'api', PORT: String(port), HERALD_METRICS_PORT: String(port) } : { HERALD_ROLE: 'worker', PORT: String(port), HERALD_METRICS_PORT: String(port), HERALD_MIGRATE: 'false' });
  if (PROFILE) env.BENCH_PROFILE_DIR = PROFILE_DIR;
  const proc = spawnNode(path.join(ROOT, 'dist/main.js'), { env, name: `herald-${role}`, ipc: PROFILE, execArgv: PROFILE ? ['-r', path.join(__dirname, 'prof-hook.js')] : [] });
  state.procs[role] = proc;
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`herald ${role} to start`, async () => {
    if (!proc.alive()) throw new Error(`exited: ${proc.output().slice(-1500)}`);
    const res = await http('GET', `${url}/health/ready`).catch(() => null);
    return res && res.status === 200;
  }, 60000, 100);
  proc.exited.then(({ code, signal }) => {
    if (!state.cleaning && !proc.planned) fail(`herald ${role} exited unexpectedly (${code ?? signal}): ${proc.output().slice(-1500)}`);
  });
  return url;
}

async function profile(role, action, label) {
  if (!PROFILE || !state.procs[role]) return;
  const reply = await ask(state.procs[role].child, { prof: action, label }, 60000);
  if (action === 'stop') {
    log(`profile written: ${reply.file}`);
    (results.profiles ??= []).push(path.relative(ROOT, reply.file));
  }
}

// ------------------------------------------------------------------------------------------------ phases

async function measureCeilings(receiverStats) {
  // bare NestJS-on-Fastify route
  log('ceiling: bare NestJS/Fastify route');
  const bare = spawnNode(path.join(__dirname, 'bare-nest.js'), { env: { PORT: String(PORTS.bare), NODE_ENV: 'production' }, name: 'bare-nest' });
  state.procs.bare = bare;
  await waitFor('the bare Nest app', () => {
    if (!bare.alive()) throw new Error(bare.output());
    return bare.output().includes('ready');
  }, 30000, 50);
  const url = `http://127.0.0.1:${PORTS.bare}/v1/tenants/bench/events`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
  const body = ingestBody('bench.ingest');
  await closedLoop({ url, connections: P.ingestConns, durationS: P.warmS, headers, body });
  const max = await closedLoop({ url, connections: P.ingestConns, durationS: P.measureS, headers, body });
  const at80 = await openLoop({ origin: `http://127.0.0.1:${PORTS.bare}`, path: '/v1/tenants/bench/events', rate: max.rate * 0.8, durationMs: P.measureS * 1000, headers, makeBody: () => body });
  await bare.stop();
  results.ceilings.bareNest = { max, at80: strip(at80) };
  log(`  ${fmt.int(max.rate)} req/s (p99 ${fmt.ms(max.latency.p99)}); at 80 %: p50 ${fmt.ms(at80.latency.p50)} p99 ${fmt.ms(at80.latency.p99)}`);

  log('ceiling: PostgreSQL unnest inserts (event + delivery rows, groups of 100, 2 commits in flight)');
  results.ceilings.pg = await ceilings.pgInsert({ url: dbUrl(ADMIN_URL, DATABASE), durationMs: P.pgMs, batch: 100, conns: 2, payload: JSON.stringify({ t: Date.now(), seq: 1, pad: PAD }) });
  log(`  ${fmt.int(results.ceilings.pg.rowsPerSecond)} events/s (commit p50 ${fmt.ms(results.ceilings.pg.commitLatency.p50)})`);
  results.ceilings.pgSingle = await ceilings.pgInsert({ url: dbUrl(ADMIN_URL, DATABASE), durationMs: P.pgMs / 2, batch: 1, conns: 2, payload: JSON.stringify({ t: Date.now(), seq: 1, pad: PAD }) });
  log(`  one event per commit: ${fmt.int(results.ceilings.pgSingle.rowsPerSecond)} events/s`);

  log(`ceiling: Bull addBulk + no-op processing (${P.shards} shards, concurrency ${P.concurrency}, ${P.bullJobs} jobs)`);
  results.ceilings.bull = await ceilings.bull({ redisUrl: REDIS_URL, prefix: CEILING_PREFIX, shards: P.shards, jobs: P.bullJobs, concurrency: P.concurrency });
  log(`  add ${fmt.int(results.ceilings.bull.addPerSecond)} jobs/s, process ${fmt.int(results.ceilings.bull.processPerSecond)} jobs/s`);

  log(`ceiling: undici POST 1 KB to the receiver, keep-alive, ${P.concurrency} in flight`);
  results.ceilings.undici = await ceilings.undiciPost({ url: `http://127.0.0.1:${PORTS.receiver}/ceiling`, durationMs: P.undiciMs, concurrency: P.concurrency, body: JSON.stringify({ pad: PAD }) });
  log(`  ${fmt.int(results.ceilings.undici.perSecond)} req/s`);
  await receiverStats('ceiling');
}

function ingestBody(eventType, extra = {}) {
  return JSON.stringify({ eventType, payload: { t: 0, seq: 0, ...extra, pad: PAD } });
}

/** The result without its list of event ids (kept for the loss check, too long to print). */
function strip(r) {
  const rest = { ...r };
  delete rest.ids;
  return rest;
}

// ------------------------------------------------------------------------------------------------ main

async function main() {
  const admin = new Client({ connectionString: ADMIN_URL });
  admin.on('error', (e) => log(`PostgreSQL admin connection: ${e.message}`));
  await admin.connect();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  state.admin = admin;
  state.redis = redis;
  await preflight(admin, redis);
  state.redisOwned = true;
  results.environment = await environment(admin, redis);
  log(`Herald bench (${results.mode}) on ${results.environment.cores} cores, ${results.environment.memoryGiB} GiB, Node ${results.environment.node}, PostgreSQL ${results.environment.postgres}, Redis ${results.environment.redis}`);
  if (PROFILE) fs.mkdirSync(PROFILE_DIR, { recursive: true });

  await admin.query(`CREATE DATABASE ${DATABASE}`);
  state.createdDb = true;
  const migrate = spawnNode(path.join(ROOT, 'dist/migrate.js'), { env: heraldEnv({}), name: 'migrate' });
  const migrated = await migrate.exited;
  if (migrated.code !== 0) throw new Error(`migrations failed: ${migrate.output()}`);

  // the receiver
  const receiver = spawnNode(path.join(__dirname, 'receiver.js'), { env: { BENCH_RECEIVER_PORT: String(PORTS.receiver) }, name: 'receiver', ipc: true });
  state.procs.receiver = receiver;
  await new Promise((resolve, reject) => {
    receiver.child.once('message', resolve);
    receiver.exited.then(() => reject(new Error(`receiver exited: ${receiver.output()}`)));
  });
  const rx = {
    stats: (tag, extra = {}) => ask(receiver.child, { cmd: 'stats', tag, ...extra }),
    reset: (...tags) => ask(receiver.child, { cmd: 'reset', tags }),
  };

  // ---- 1. ceilings
  await measureCeilings((tag) => rx.reset(tag));

  // ---- 2. Herald
  log('starting Herald API');
  const api = await startHerald('api');
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const call = async (method, p, body) => {
    const res = await http(method, api + p, body, auth);
    if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const tenant = await call('POST', '/v1/tenants', { name: 'bench' });
  const t = `/v1/tenants/${tenant.id}`;
  const rurl = (p) => `http://127.0.0.1:${PORTS.receiver}${p}`;
  const endpoint = async (p, eventTypes, extra = {}) => {
    const e = await call('POST', `${t}/endpoints`, { url: rurl(p), eventTypes, ...extra });
    state.endpointIds.push(e.id);
    return e;
  };
  const ingestEp = await endpoint('/ingest', ['bench.ingest']);
  // Herald shards by endpoint and splits the worker's concurrency over its shards, so a single endpoint
  // gets 1/8 of it: the drain and end-to-end traffic go to one endpoint per shard.
  const endpointSet = async (name) => {
    const byShard = new Map();
    for (let n = 0; byShard.size < P.shards && n < 200; n++) {
      const e = await endpoint(`/${name}/${n}`, [`bench.${name}.${n}`]);
      const shard = shardOf(e.id, P.shards);
      if (!byShard.has(shard)) byShard.set(shard, { id: e.id, n, shard, type: `bench.${name}.${n}`, tag: `${name}/${n}` });
    }
    return [...byShard.values()].sort((a, b) => a.shard - b.shard);
  };
  const drainSet = await endpointSet('drain');
  const e2eSet = await endpointSet('e2e');
  const throttledEp = await endpoint('/throttled', ['bench.throttled'], { rateLimitPerSecond: P.throttleRate });
  const throttledShard = shardOf(throttledEp.id, P.shards);
  const sibling = e2eSet.find((e) => e.shard === throttledShard);
  for (let i = 0; i < P.fanoutEndpoints; i++) await endpoint(`/fanout/${i}`, ['bench.fanout']);
  const jsonHeaders = { ...auth, 'content-type': 'application/json' };

  /** Publishes `count` events through the batch route, 4 requests in flight; returns the deliveries created. */
  const publishBatches = async (label, count, eventTypeOf) => {
    let next = 0;
    let deliveries = 0;
    const poster = async () => {
      while (next < count) {
        const n = Math.min(P.batchSize, count - next);
        const from = next;
        next += n;
        const body = { events: Array.from({ length: n }, (_, i) => ({ eventType: eventTypeOf(from + i), payload: { t: wallNow(), seq: i, pad: PAD } })) };
        const res = await http('POST', `${api}${t}/events/batch`, body, auth);
        if (res.status !== 202) throw new Error(`${label} batch answered ${res.status}: ${JSON.stringify(res.body)}`);
        for (const e of res.body.data) deliveries += e.deliveryCount;
      }
    };
    await Promise.all([poster(), poster(), poster(), poster()]);
    return deliveries;
  };
  const drainType = (i) => drainSet[i % drainSet.length].type;

  // ---- ingest, worker stopped
  log(`ingest: single-event POST ${t}/events, closed loop ${P.ingestConns} connections, then open loop at 80 %`);
  const ingestUrl = `${api}${t}/events`;
  await closedLoop({ url: ingestUrl, connections: P.ingestConns, durationS: P.warmS, headers: jsonHeaders, body: ingestBody('bench.ingest') });
  await profile('api', 'start');
  const ingestMax = await closedLoop({ url: ingestUrl, connections: P.ingestConns, durationS: P.measureS, headers: jsonHeaders, body: ingestBody('bench.ingest') });
  const ingest80 = await openLoop({ origin: api, path: `${t}/events`, rate: ingestMax.rate * 0.8, durationMs: P.measureS * 1000, headers: jsonHeaders, makeBody: () => ingestBody('bench.ingest') });
  await profile('api', 'stop', 'api-ingest');
  results.herald.ingest = { max: ingestMax, at80: strip(ingest80) };
  log(`  max ${fmt.int(ingestMax.rate)} events/s (p50 ${fmt.ms(ingestMax.latency.p50)}, p99 ${fmt.ms(ingestMax.latency.p99)}); at 80 % (${fmt.int(ingest80.achievedRate)}/s): p50 ${fmt.ms(ingest80.latency.p50)}, p99 ${fmt.ms(ingest80.latency.p99)}`);
  if (ingestMax.non2xx || ingestMax.errors) fail(`ingest: ${ingestMax.non2xx} non-2xx answers, ${ingestMax.errors} errors`);
  if (ingest80.failed) fail(`ingest at 80 %: ${ingest80.failed} requests failed ${JSON.stringify({ statuses: ingest80.statuses, errors: ingest80.errors })}`);

  // ---- batch ingest
  log(`batch ingest: POST ${t}/events/batch of ${P.batchSize}, closed loop ${P.batchConns} connections`);
  const batchBody = JSON.stringify({ events: Array.from({ length: P.batchSize }, (_, i) => ({ eventType: 'bench.ingest', payload: { t: 0, seq: i, pad: PAD } })) });
  await closedLoop({ url: `${ingestUrl}/batch`, connections: P.batchConns, durationS: P.warmS, headers: jsonHeaders, body: batchBody });
  await profile('api', 'start');
  const batch = await closedLoop({ url: `${ingestUrl}/batch`, connections: P.batchConns, durationS: P.measureS, headers: jsonHeaders, body: batchBody });
  await profile('api', 'stop', 'api-batch');
  results.herald.batch = { ...batch, eventsPerSecond: batch.rate * P.batchSize };
  log(`  ${fmt.int(results.herald.batch.eventsPerSecond)} events/s (request p50 ${fmt.ms(batch.latency.p50)}, p99 ${fmt.ms(batch.latency.p99)})`);
  if (batch.non2xx || batch.errors) fail(`batch: ${batch.non2xx} non-2xx answers, ${batch.errors} errors`);

  // The ingest deliveries must not be drained below: dead-letter them (delete the endpoint) and drop their jobs.
  await call('DELETE', `${t}/endpoints/${ingestEp.id}`);
  await sleep(500); // the enqueues that follow the last commits
  const dropped = await deleteKeys(redis, `${PREFIX}:*`);
  log(`  (ingest deliveries dead-lettered; ${dropped} queue keys dropped)`);

  // ---- drain
  log(`drain: queueing ${P.drain} deliveries, worker stopped`);
  const queued = await publishBatches('drain', P.drain, drainType);
  if (queued !== P.drain) fail(`drain: ${queued} deliveries created for ${P.drain} events`);
  const waiting = async () => {
    let n = 0;
    for (let i = 0; i < P.shards; i++) n += await redis.llen(`${PREFIX}:{deliveries.${i}}:wait`);
    return n;
  };
  await waitFor(`${P.drain} jobs in Redis`, async () => (await waiting()) >= P.drain, 20000).catch((e) => fail(`drain: ${e.message}`));
  log('  starting the worker');
  const spawnedAt = wallNow();
  await startHerald('worker');
  const readyAt = wallNow();
  await profile('worker', 'start');
  const drainDone = await waitUntil(() => rx.stats('drain'), (s) => s.unique >= P.drain, Math.max(P.settleMs, P.drain * 2));
  await profile('worker', 'stop', 'worker-drain');
  const drainRate = drainDone.unique / ((drainDone.last - drainDone.first) / 1000);
  results.herald.drain = {
    deliveries: P.drain,
    endpoints: drainSet.length,
    received: drainDone.unique,
    duplicates: drainDone.duplicates,
    perSecond: drainRate,
    perSecondFromWorkerReady: drainDone.unique / ((drainDone.last - readyAt) / 1000),
    workerStartMs: readyAt - spawnedAt,
  };
  log(`  ${fmt.int(drainRate)} deliveries/s (${drainDone.unique}/${P.drain} received in ${((drainDone.last - drainDone.first) / 1000).toFixed(1)} s; worker boot ${fmt.int(readyAt - spawnedAt)} ms)`);
  if (drainDone.unique < P.drain) fail(`drain: only ${drainDone.unique} of ${P.drain} deliveries received`);

  // ---- the limiter's cost: the same drain to the same endpoints with a rate limit they never reach
  log(`rate-limit overhead: the drain again, each endpoint limited to ${fmt.int(NON_BINDING_LIMIT)}/s (never binding)`);
  {
    state.procs.worker.planned = true;
    await state.procs.worker.stop(25000);
    for (const e of drainSet) await call('PATCH', `${t}/endpoints/${e.id}`, { rateLimitPerSecond: NON_BINDING_LIMIT });
    await rx.reset('drain');
    await publishBatches('limited drain', P.drain, drainType);
    await startHerald('worker');
    const done = await waitUntil(() => rx.stats('drain'), (st) => st.unique >= P.drain, Math.max(P.settleMs, P.drain * 2));
    const rate = done.unique / ((done.last - done.first) / 1000);
    results.herald.rateLimitOverhead = { limitPerSecond: NON_BINDING_LIMIT, deliveries: P.drain, received: done.unique, perSecond: rate, unlimitedPerSecond: drainRate, ratio: rate / drainRate };
    log(`  ${fmt.int(rate)} deliveries/s limited vs ${fmt.int(drainRate)} unlimited (${fmt.pct(rate / drainRate)})`);
    if (done.unique < P.drain) fail(`rate-limit overhead: only ${done.unique} of ${P.drain} deliveries received`);
    for (const e of drainSet) await call('PATCH', `${t}/endpoints/${e.id}`, { rateLimitPerSecond: null });
  }

  // ---- end to end
  const e2eRate = Math.max(10, Math.round(drainRate * 0.5));
  const runE2E = async (label) => {
    await rx.reset('e2e', 'e2e-warm', ...e2eSet.map((e) => e.tag));
    const opts = { origin: api, path: `${t}/events`, rate: e2eRate, headers: jsonHeaders };
    await openLoop({ ...opts, durationMs: P.e2eWarmS * 1000, makeBody: (i, at) => JSON.stringify({ eventType: e2eSet[i % e2eSet.length].type, payload: { t: at, w: 1, seq: i, pad: PAD } }) });
    const from = wallNow();
    const pub = await openLoop({ ...opts, durationMs: P.e2eS * 1000, collectIds: true, makeBody: (i, at) => JSON.stringify({ eventType: e2eSet[i % e2eSet.length].type, payload: { t: at, seq: i, pad: PAD } }) });
    const to = wallNow();
    const got = await waitUntil(() => rx.stats('e2e'), (s) => s.unique >= pub.ok, P.settleMs, true);
    const full = await rx.stats('e2e', { ids: true });
    const seen = new Set(full.ids);
    const lost = pub.ids.filter((id) => !seen.has(id)).length;
    const siblingStats = await rx.stats(sibling.tag);
    const r = { label, endpoints: e2eSet.length, sameShardAsThrottled: { endpoint: sibling.id, shard: sibling.shard, latency: siblingStats.latency }, rate: e2eRate, durationS: P.e2eS, published: pub.ok, publishFailed: pub.failed, publishLatency: pub.latency, received: got.unique, duplicates: got.duplicates, lost, latency: full.latency, window: [from, to], maxSendDelayMs: pub.maxSendDelayMs };
    log(`  ${label}: ${pub.ok} published at ${e2eRate}/s, ${got.unique} received, ${lost} lost; publish→receive p50 ${fmt.ms(full.latency.p50)}, p99 ${fmt.ms(full.latency.p99)}, max ${fmt.ms(full.latency.max)} (publish p99 ${fmt.ms(pub.latency.p99)})`);
    if (lost) fail(`${label}: ${lost} events lost`);
    if (pub.failed) fail(`${label}: ${pub.failed} publishes failed ${JSON.stringify({ statuses: pub.statuses, errors: pub.errors })}`);
    return r;
  };
  log(`end to end: ${P.e2eS} s at ${e2eRate} events/s (50 % of the drain rate)`);
  await profile('worker', 'start');
  results.herald.e2e = await runE2E('e2e');
  await profile('worker', 'stop', 'worker-e2e');

  // ---- fan-out
  log(`fan-out: ${P.fanoutEvents} events × ${P.fanoutEndpoints} endpoints`);
  {
    const total = P.fanoutEvents * P.fanoutEndpoints;
    const t0 = wallNow();
    let next = 0;
    let made = 0;
    const poster = async () => {
      while (next < P.fanoutEvents) {
        const i = next++;
        const res = await http('POST', `${ingestUrl}`, { eventType: 'bench.fanout', payload: { t: wallNow(), seq: i, pad: PAD } }, auth);
        if (res.status !== 202) throw new Error(`fan-out publish answered ${res.status}`);
        made += res.body.deliveryCount;
      }
    };
    await Promise.all(Array.from({ length: 4 }, poster));
    const done = await waitUntil(() => rx.stats('fanout'), (s) => s.count >= total, P.settleMs);
    results.herald.fanout = { events: P.fanoutEvents, endpoints: P.fanoutEndpoints, deliveries: made, received: done.count, perSecond: done.count / ((done.last - t0) / 1000), latency: done.latency };
    log(`  ${fmt.int(results.herald.fanout.perSecond)} deliveries/s (${done.count}/${total}; publish→receive p50 ${fmt.ms(done.latency.p50)}, p99 ${fmt.ms(done.latency.p99)})`);
    if (made !== total) fail(`fan-out: ${made} deliveries created, expected ${total}`);
    if (done.count < total) fail(`fan-out: only ${done.count} of ${total} deliveries received`);
  }

  // ---- throttled neighbour
  log(`throttled neighbour: an endpoint at ${P.throttleRate}/s with a ${P.throttledBacklog}-delivery backlog, then end to end again`);
  {
    const queuedAt = wallNow();
    await publishBatches('throttled', P.throttledBacklog, () => 'bench.throttled');
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
    log(`  throttled endpoint received ${th.inWindow} in ${windowS.toFixed(0)} s (${observed.toFixed(1)}/s): rate limit ${results.herald.throttled.enforced ? 'enforced' : 'NOT enforced'}; neighbours p50 ${fmt.ms(e2e.latency.p50)} (${fmt.pct(results.herald.throttled.p50Change)}), p99 ${fmt.ms(e2e.latency.p99)} (${fmt.pct(results.herald.throttled.p99Change)}); the one on its shard p50 ${fmt.ms(e2e.sameShardAsThrottled.latency.p50)} (${fmt.pct(results.herald.throttled.sameShard.p50Change)}), p99 ${fmt.ms(e2e.sameShardAsThrottled.latency.p99)} (${fmt.pct(results.herald.throttled.sameShard.p99Change)})`);
  }
}

/** Polls `get` until `done(value)`, or until it has made no progress for `stallMs`; returns the last value. */
async function waitUntil(get, done, stallMs, quiet = false) {
  let last = await get();
  let lastChange = Date.now();
  let lastCount = last.count;
  while (!done(last)) {
    if (Date.now() - lastChange > stallMs) {
      if (!quiet) log(`  (gave up waiting: no progress for ${stallMs / 1000} s)`);
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

// ------------------------------------------------------------------------------------------------ report

function evaluate() {
  const c = results.ceilings;
  const h = results.herald;
  const rows = [];
  const target = (name, ok, detail) => {
    results.targets.push({ name, ok, detail });
    return ok ? 'PASS' : 'MISS';
  };
  const ratio = (a, b) => (a && b ? a / b : null);
  if (h.ingest) {
    const r = ratio(h.ingest.max.rate, c.bareNest.max.rate);
    rows.push(['ingest, single event (max, closed loop)', `${fmt.int(h.ingest.max.rate)} ev/s`, `${fmt.int(c.bareNest.max.rate)} req/s bare Nest`, fmt.pct(r), '≥ 35 %', target('ingest ≥ 35 % of bare Nest', r >= 0.35, r)]);
    rows.push(['  latency p50 / p99 at max', `${fmt.ms(h.ingest.max.latency.p50)} / ${fmt.ms(h.ingest.max.latency.p99)}`, `${fmt.ms(c.bareNest.max.latency.p50)} / ${fmt.ms(c.bareNest.max.latency.p99)}`, '', '', '']);
    rows.push([`  latency p50 / p99 at 80 % (open loop)`, `${fmt.ms(h.ingest.at80.latency.p50)} / ${fmt.ms(h.ingest.at80.latency.p99)}`, `${fmt.ms(c.bareNest.at80.latency.p50)} / ${fmt.ms(c.bareNest.at80.latency.p99)}`, '', 'p99 ≤ 50 ms', target('ingest p99 ≤ 50 ms at 80 %', h.ingest.at80.latency.p99 <= 50, h.ingest.at80.latency.p99)]);
  }
  if (h.batch) {
    const r = ratio(h.batch.eventsPerSecond, c.pg.rowsPerSecond);
    rows.push([`batch ingest (${P.batchSize}/request)`, `${fmt.int(h.batch.eventsPerSecond)} ev/s`, `${fmt.int(c.pg.rowsPerSecond)} ev/s PG unnest`, fmt.pct(r), '≥ 20 000 ev/s', target('batch ≥ 20 000 events/s', h.batch.eventsPerSecond >= 20000, h.batch.eventsPerSecond)]);
  }
  if (h.drain) {
    const r = ratio(h.drain.perSecond, c.bull.processPerSecond);
    rows.push([`drain (${fmt.int(h.drain.deliveries)} queued, ${h.drain.endpoints} endpoints)`, `${fmt.int(h.drain.perSecond)} dlv/s`, `${fmt.int(c.bull.processPerSecond)} jobs/s Bull no-op`, fmt.pct(r), '≥ 40 %', target('drain ≥ 40 % of Bull no-op', r >= 0.4, r)]);
    rows.push(['', '', `${fmt.int(c.undici.perSecond)} req/s undici`, fmt.pct(ratio(h.drain.perSecond, c.undici.perSecond)), '', '']);
  }
  if (h.rateLimitOverhead) {
    const o = h.rateLimitOverhead;
    rows.push([`  same drain, endpoints limited to ${fmt.int(o.limitPerSecond)}/s`, `${fmt.int(o.perSecond)} dlv/s`, `${fmt.int(o.unlimitedPerSecond)} dlv/s unlimited`, fmt.pct(o.ratio), 'limiter cost < 10 %', target('rate-limit check costs < 10 % of drain', o.ratio >= 0.9, o.ratio)]);
  }
  if (h.e2e) {
    rows.push([`end to end p50 / p99 (${fmt.int(h.e2e.rate)} ev/s, ${P.e2eS} s, ${h.e2e.endpoints} endpoints)`, `${fmt.ms(h.e2e.latency.p50)} / ${fmt.ms(h.e2e.latency.p99)}`, '', '', 'p50 ≤ 20, p99 ≤ 250 ms', target('end to end p50 ≤ 20 ms, p99 ≤ 250 ms', h.e2e.latency.p50 <= 20 && h.e2e.latency.p99 <= 250, h.e2e.latency)]);
    rows.push(['  events lost', String(h.e2e.lost), '', '', '0', target('end to end: 0 lost', h.e2e.lost === 0 && h.e2e.published > 0, h.e2e.lost)]);
  }
  if (h.fanout) {
    rows.push([`fan-out (1 event → ${P.fanoutEndpoints} endpoints, ×${P.fanoutEvents})`, `${fmt.int(h.fanout.perSecond)} dlv/s`, `${fmt.int(c.bull.processPerSecond)} jobs/s Bull no-op`, fmt.pct(ratio(h.fanout.perSecond, c.bull.processPerSecond)), '', '']);
  }
  if (h.throttled) {
    const th = h.throttled;
    const ok = th.p50Change <= 0.2 && th.p99Change <= 0.2 && th.e2e.lost === 0;
    rows.push([`throttled neighbour: e2e p50 / p99`, `${fmt.ms(th.e2e.latency.p50)} / ${fmt.ms(th.e2e.latency.p99)}`, `${fmt.ms(h.e2e.latency.p50)} / ${fmt.ms(h.e2e.latency.p99)} alone`, `${fmt.pct(th.p50Change)} / ${fmt.pct(th.p99Change)}`, 'change ≤ +20 %', target('throttled neighbour: latency change ≤ 20 %', ok, { p50: th.p50Change, p99: th.p99Change })]);
    const ss = th.sameShard;
    const base = h.e2e.sameShardAsThrottled.latency;
    const ssl = th.e2e.sameShardAsThrottled.latency;
    rows.push([`  the one on the throttled endpoint's shard`, `${fmt.ms(ssl.p50)} / ${fmt.ms(ssl.p99)}`, `${fmt.ms(base.p50)} / ${fmt.ms(base.p99)} alone`, `${fmt.pct(ss.p50Change)} / ${fmt.pct(ss.p99Change)}`, 'change ≤ +20 %', target('throttled neighbour on the same shard: latency change ≤ 20 %', ss.p50Change <= 0.2 && ss.p99Change <= 0.2, ss)]);
    rows.push([`  throttled endpoint (limit ${th.rateLimitPerSecond}/s)`, `${th.throttledObservedPerSecond.toFixed(1)} dlv/s`, '', '', `≤ ${th.rateLimitPerSecond}/s`, target('rate limit enforced', th.enforced, th.throttledObservedPerSecond)]);
    rows.push(['  events lost', String(th.e2e.lost), '', '', '0', target('throttled neighbour: 0 lost', th.e2e.lost === 0 && th.e2e.published > 0, th.e2e.lost)]);
  }
  if (c.bull) rows.push(['(ceiling) Bull addBulk', '', `${fmt.int(c.bull.addPerSecond)} jobs/s`, '', '', '']);
  if (c.pgSingle) rows.push(['(ceiling) PG, one event per commit', '', `${fmt.int(c.pgSingle.rowsPerSecond)} ev/s`, '', '', '']);
  return rows;
}

function table(rows) {
  const head = ['measure', 'Herald', 'ceiling', 'ratio', 'target', ''];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((v, i) => String(v).padEnd(widths[i])).join('  ').trimEnd();
  const text = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  return { text, md };
}

function writeReport(rows, elapsedS) {
  const { text, md } = table(rows);
  console.log(`\n${text}\n`);
  const e = results.environment || {};
  results.elapsedSeconds = elapsedS;
  if (results.environment) results.environment.loadAverageAtEnd = os.loadavg().map((v) => +v.toFixed(2));
  const suffix = SMOKE ? '.smoke' : '';
  fs.writeFileSync(path.join(__dirname, `results${suffix}.json`), JSON.stringify(results, null, 2));
  const lines = [
    `# Herald benchmark (${results.mode})`,
    '',
    `${e.date} · ${e.cores} cores (${e.cpu}) · ${e.memoryGiB} GiB · ${e.os} · Node ${e.node} · PostgreSQL ${e.postgres} · Redis ${e.redis} · Herald ${e.herald} ${e.commit || ''} · run took ${elapsedS.toFixed(0)} s · load average ${(e.loadAverageAtStart || []).join(' ')} at start, ${(e.loadAverageAtEnd || []).join(' ')} at end`,
    '',
    'Herald runs from dist/ as one API and one worker process with its default settings (8 shards, worker concurrency 100, NODE_ENV=production, log level warn); PostgreSQL, Redis, the load generator and the receiver share the same machine. Latencies under load come from an open-loop generator (fixed rate, measured from each request\'s scheduled time); "max" figures come from autocannon (closed loop).',
    '',
    md,
    '',
    results.failures.length ? `**Failures:**\n\n${results.failures.map((f) => `- ${f}`).join('\n')}\n` : 'No failures.',
    '',
    'Ceilings: bare NestJS 11 on Fastify with Herald\'s adapter settings parsing the same ~1 KB body and answering 202; PostgreSQL `INSERT … SELECT * FROM unnest(…)` of event + delivery rows into Herald\'s tables, 100 per transaction, 2 transactions in flight (as the publisher); Bull with Herald\'s 8 queues, shared connections, job options and job ids, `addBulk` in groups of 500 then no-op processors at concurrency 100; undici POSTing 1 KB to the bench receiver with 100 in flight over keep-alive.',
    '',
    `Full figures: \`bench/results${suffix}.json\`.`,
    '',
  ];
  fs.writeFileSync(path.join(__dirname, `RESULTS${suffix}.md`), lines.join('\n'));
}

// ------------------------------------------------------------------------------------------------ cleanup

async function cleanup() {
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    for (const name of ['worker', 'api', 'bare']) {
      const p = state.procs[name];
      if (p && p.alive()) await p.stop(name === 'worker' ? 25000 : 10000).catch(() => undefined);
    }
    const rcv = state.procs.receiver;
    if (rcv && rcv.alive()) await rcv.stop(3000);
    if (state.createdDb && state.admin) {
      await state.admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`).catch((e) => console.error(`could not drop ${DATABASE}: ${e.message}`));
    }
    if (state.redisOwned && state.redis) {
      try {
        await deleteKeys(state.redis, `${PREFIX}:*`);
        await deleteKeys(state.redis, `${CEILING_PREFIX}:*`);
        // keys outside the prefix that name our endpoints (e.g. rate-limit slots `herald:rl:{ep_…}`)
        const ours = new Set(state.endpointIds);
        let cursor = '0';
        do {
          const [next, keys] = await state.redis.scan(cursor, 'MATCH', '*ep_*', 'COUNT', 1000);
          cursor = next;
          const mine = keys.filter((k) => [...(k.match(/ep_[0-9A-Z]{26}/g) || [])].some((id) => ours.has(id)));
          if (mine.length) await state.redis.unlink(...mine);
        } while (cursor !== '0');
      } catch (e) {
        console.error(`could not clean Redis: ${e.message}`);
      }
    }
    await state.admin?.end().catch(() => undefined);
    state.redis?.disconnect();
  })();
  return state.cleaning;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(
    () => 0,
    (error) => {
      if (error instanceof Refusal) {
        console.error(`bench: refusing to start: ${error.message}`);
        return 3;
      }
      fail(`aborted: ${error.stack || error.message}`);
      return 1;
    },
  )
  .then(async (code) => {
    if (code === 3) {
      await state.admin?.end().catch(() => undefined);
      state.redis?.disconnect();
      process.exit(3);
    }
    const rows = evaluate();
    log('cleaning up');
    await cleanup();
    const elapsed = (now() - T0) / 1000;
    writeReport(rows, elapsed);
    if (PROFILE && results.profiles) {
      const { summarise } = require('./prof-summary');
      for (const f of results.profiles) console.log(summarise(path.join(ROOT, f), 20));
    }
    const missed = results.targets.filter((t) => !t.ok);
    console.log(`bench ${results.mode} run: ${elapsed.toFixed(0)} s, ${results.failures.length} failure(s), ${missed.length} target(s) missed${missed.length ? `: ${missed.map((m) => m.name).join('; ')}` : ''}`);
    process.exit(results.failures.length || code ? 1 : STRICT && missed.length ? 2 : 0);
  });
