'use strict';
/*
 * The `scale` scenario: deliveries/s of a backlog drained by 1, 2 and 4 worker processes, on a single
 * Redis and on a Redis Cluster (3 masters + 3 replicas from scripts/redis-cluster.sh), with the machine's
 * core count beside the figures. Run through bench/run.js:
 *
 *   npm run build && node bench/run.js --only scale [--smoke]      (bench/scenarios/scale.js)
 *
 * Per Redis: one database, one API process, then for each worker count a fresh tenant with one endpoint
 * per shard (all on the bench receiver, answering 200 at once), a backlog published with no worker
 * running, then the workers started together. The clock runs from the moment the last worker is ready
 * to the last delivery succeeded; what earlier-ready workers drained before is subtracted.
 *
 * Environment: BENCH_ADMIN_DATABASE_URL (as bench/run.js), REDIS_URL (the single Redis,
 * redis://127.0.0.1:6379), BENCH_SCALE_PORT_BASE (4760: API, +1 receiver, +2… workers; the cluster
 * takes six free ports of its own), BENCH_SCALE_DELIVERIES (the backlog per measurement, 40 000).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const Redis = require('ioredis');
const { ROOT, shardOf, now, waitFor, http, spawnNode, deleteKeys, dbUrl } = require('./lib');

const SHARDS = 8;

function params(smoke) {
  const p = smoke ? { deliveries: 400, workerCounts: [1, 2] } : { deliveries: 40000, workerCounts: [1, 2, 4] };
  // BENCH_SCALE_DELIVERIES: a smaller backlog for a shorter full run (all three worker counts).
  if (!smoke && process.env.BENCH_SCALE_DELIVERIES) p.deliveries = Math.max(100, Number(process.env.BENCH_SCALE_DELIVERIES));
  return p;
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Six ports whose cluster-bus ports (+10000) are free too, below the ephemeral range (32768 up). */
async function clusterPorts() {
  const ports = [];
  for (let p = 11000 + Math.floor(Math.random() * 11000); ports.length < 6; p++) {
    if ((await portFree(p)) && (await portFree(p + 10000))) ports.push(p);
  }
  return ports;
}

async function scale(argv, { log: parentLog } = {}) {
  const smoke = argv.includes('--smoke');
  const P = params(smoke);
  const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const base = Number(process.env.BENCH_SCALE_PORT_BASE || 4760);
  const singleRedis = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const adminKey = `bench_admin_${randomBytes(16).toString('hex')}`;
  const log = parentLog ? (...a) => parentLog(a.join(' ')) : (...a) => console.log(`[scale ${((now() - t0) / 1000).toFixed(1).padStart(6)} s]`, ...a);
  const t0 = now();
  const procs = new Set();
  const results = [];
  const clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-cluster-'));
  let ports = await clusterPorts();
  let clusterEnv = { ...process.env, REDIS_CLUSTER_PORTS: ports.join(','), REDIS_CLUSTER_DIR: clusterDir };
  const script = path.join(ROOT, 'scripts/redis-cluster.sh');

  const receiver = spawnNode(path.join(__dirname, 'receiver.js'), { env: { BENCH_RECEIVER_PORT: String(base + 1) }, name: 'receiver', ipc: true });
  procs.add(receiver);
  await new Promise((resolve, reject) => {
    receiver.child.once('message', resolve);
    receiver.exited.then(() => reject(new Error(`receiver exited: ${receiver.output()}`)));
  });

  const startHerald = async (env, role, port, extra = {}) => {
    const proc = spawnNode(path.join(ROOT, 'dist/main.js'), {
      env: { ...env, HERALD_ROLE: role, PORT: String(port), HERALD_METRICS_PORT: String(port), ...extra },
      name: `herald-${role}-${port}`,
    });
    procs.add(proc);
    await waitFor(`herald ${role} on ${port}`, async () => {
      if (!proc.alive()) throw new Error(`exited: ${proc.output().slice(-1500)}`);
      const res = await http('GET', `http://127.0.0.1:${port}/health/ready`).catch(() => null);
      return res && res.status === 200;
    }, 120000, 100);
    return proc;
  };
  const stop = async (proc) => {
    await proc.stop();
    procs.delete(proc);
  };

  const runOn = async (label, redisUrl) => {
    const database = `herald_bench_scale_${randomBytes(4).toString('hex')}`;
    const prefix = `herald-bench-scale-${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const db = new Client({ connectionString: dbUrl(adminUrl, database) });
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl(adminUrl, database),
      REDIS_URL: redisUrl,
      HERALD_ADMIN_KEY: adminKey,
      HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      HERALD_QUEUE_PREFIX: prefix,
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
      HERALD_SHARDS: String(SHARDS),
      HOST: '127.0.0.1',
    };
    try {
      const migrate = spawnNode(path.join(ROOT, 'dist/migrate.js'), { env, name: 'migrate' });
      if ((await migrate.exited).code !== 0) throw new Error(`migrations failed: ${migrate.output()}`);
      await db.connect();
      const api = await startHerald(env, 'api', base, { HERALD_MIGRATE: 'false' });
      const call = async (method, p, body) => {
        const res = await http(method, `http://127.0.0.1:${base}${p}`, body, { authorization: `Bearer ${adminKey}` });
        if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      for (const workers of P.workerCounts) {
        const tenant = await call('POST', '/v1/tenants', { name: `scale-${workers}` });
        // One endpoint per shard, so every shard (and on the cluster every master) has work.
        const byShard = new Map();
        for (let n = 0; byShard.size < SHARDS && n < 200; n++) {
          const e = await call('POST', `/v1/tenants/${tenant.id}/endpoints`, { url: `http://127.0.0.1:${base + 1}/scale/${n}`, eventTypes: [`scale.${n}`] });
          if (!byShard.has(shardOf(e.id, SHARDS))) byShard.set(shardOf(e.id, SHARDS), n);
        }
        const types = [...byShard.values()].map((n) => `scale.${n}`);
        for (let sent = 0; sent < P.deliveries; sent += 100) {
          const events = Array.from({ length: Math.min(100, P.deliveries - sent) }, (_, i) => ({ eventType: types[(sent + i) % types.length], payload: { i: sent + i } }));
          await call('POST', `/v1/tenants/${tenant.id}/events/batch`, { events });
        }
        const succeeded = async () => (await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant.id])).rows[0].n;
        const started = await Promise.all(Array.from({ length: workers }, (_, i) => startHerald(env, 'worker', base + 2 + i, { HERALD_MIGRATE: 'false' })));
        const from = now();
        const done0 = await succeeded();
        await waitFor(`${P.deliveries} deliveries`, async () => (await succeeded()) >= P.deliveries, 600000, 100);
        const seconds = (now() - from) / 1000;
        const rate = (P.deliveries - done0) / seconds;
        results.push({ redis: label, workers, deliveries: P.deliveries, measured: P.deliveries - done0, seconds: +seconds.toFixed(2), perSecond: Math.round(rate) });
        log(`${label}: ${workers} worker(s): ${Math.round(rate)} deliveries/s (${P.deliveries - done0} in ${seconds.toFixed(1)} s)`);
        await Promise.all(started.map(stop));
      }
      await stop(api);
    } finally {
      await db.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      if (redisUrl === singleRedis) {
        const redis = new Redis(singleRedis, { maxRetriesPerRequest: 2 });
        await deleteKeys(redis, `${prefix}:*`).catch(() => undefined);
        redis.disconnect();
      }
    }
  };

  try {
    await runOn('single Redis', singleRedis);
    log('starting a Redis Cluster (3 masters + 3 replicas)');
    // A port found free may be taken before redis-server binds it (a shared box): new ports, up to 3 times.
    for (let attempt = 1; ; attempt++) {
      try {
        execFileSync('bash', [script, 'start'], { env: clusterEnv, stdio: ['ignore', 'ignore', 'pipe'] });
        break;
      } catch (error) {
        const why = String(error.stderr || error.message).trim();
        execFileSync('bash', [script, 'stop'], { env: clusterEnv, stdio: 'ignore' });
        if (attempt >= 3 || !/Address already in use|does not answer/.test(why)) throw new Error(`scripts/redis-cluster.sh start failed: ${why}`);
        log(`cluster start failed (${why}); again on other ports`);
        fs.mkdirSync(clusterDir, { recursive: true });
        ports = await clusterPorts();
        clusterEnv = { ...clusterEnv, REDIS_CLUSTER_PORTS: ports.join(',') };
      }
    }
    await runOn('Redis Cluster', `redis+cluster://${ports.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(',')}`);
  } finally {
    for (const proc of procs) await proc.stop();
    try {
      execFileSync('bash', [script, 'stop'], { env: clusterEnv, stdio: 'ignore' });
    } catch {
      /* nothing was started */
    }
    fs.rmSync(clusterDir, { recursive: true, force: true });
  }

  const cores = os.cpus().length;
  console.log(`\nscale (${smoke ? 'smoke' : 'full'}): ${cores} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  console.log('| Redis | worker processes | deliveries/s | per process | cores |');
  console.log('|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.redis} | ${r.workers} | ${r.perSecond} | ${Math.round(r.perSecond / r.workers)} | ${cores} |`);
  fs.mkdirSync(path.join(__dirname, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'tmp', `scale-results${smoke ? '-smoke' : ''}.json`), JSON.stringify({ at: new Date().toISOString(), cores, loadAverage: os.loadavg(), results }, null, 2) + '\n');
  return { cores, results };
}

module.exports = { scale };
