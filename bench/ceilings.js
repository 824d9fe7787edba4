'use strict';
// The ceilings: what Herald's parts can do on this machine with Herald's settings, measured alone.
const { Client } = require('pg');
const Redis = require('ioredis');
const Queue = require('bull');
const { Agent, request } = require('undici');
const { monotonicFactory } = require('ulid');
const { now, summarize } = require('./lib');

const ulid = monotonicFactory();

/**
 * Event + delivery rows committed per second, the way event-publisher.ts writes them: one transaction per
 * group, `INSERT … SELECT * FROM unnest(…)` into events then deliveries, `conns` groups in flight (the
 * publisher runs two commits at once). Uses the migrated `events`/`deliveries` tables and empties them after.
 */
async function pgInsert({ url, durationMs, batch = 100, conns = 2, payload }) {
  const clients = [];
  for (let i = 0; i < conns; i++) {
    const c = new Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
  }
  const tenantId = `tnt_${ulid()}`;
  const endpointId = `ep_${ulid()}`;
  await clients[0].query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench-ceiling')`, [tenantId]);
  let rows = 0;
  let commits = 0;
  const commitMs = [];
  const loop = async (c, until) => {
    while (now() < until) {
      const started = now();
      const at = new Date();
      const ids = Array.from({ length: batch }, () => `evt_${ulid()}`);
      await c.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await c.query(
        `INSERT INTO events (id, tenant_id, event_type, payload, idempotency_key, source_headers, created_at)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::varchar[], $6::jsonb[], $7::timestamptz[])
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id`,
        [ids, ids.map(() => tenantId), ids.map(() => 'bench.ceiling'), ids.map(() => payload), ids.map(() => null), ids.map(() => null), ids.map(() => at)],
      );
      await c.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
         SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id, d.event_type, 'pending', 0, $6, 'initial', $6, $6
         FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[]) AS d(id, tenant_id, event_id, endpoint_id, event_type)`,
        [ids.map(() => `dlv_${ulid()}`), ids.map(() => tenantId), ids, ids.map(() => endpointId), ids.map(() => 'bench.ceiling'), at],
      );
      await c.query('COMMIT');
      commitMs.push(now() - started);
      rows += batch;
      commits++;
    }
  };
  // a short warm-up, then the measured run
  await Promise.all(clients.map((c) => loop(c, now() + Math.min(1000, durationMs / 4))));
  rows = 0;
  commits = 0;
  commitMs.length = 0;
  const t0 = now();
  await Promise.all(clients.map((c) => loop(c, t0 + durationMs)));
  const elapsed = now() - t0;
  await clients[0].query('TRUNCATE deliveries, events CASCADE');
  await clients[0].query('DELETE FROM tenants WHERE id = $1', [tenantId]);
  await clients[0].query('VACUUM ANALYZE events');
  await clients[0].query('VACUUM ANALYZE deliveries');
  await Promise.all(clients.map((c) => c.end()));
  return { batch, conns, rowsPerSecond: rows / (elapsed / 1000), commits, commitLatency: summarize(commitMs) };
}

/**
 * Bull with Herald's queue layout and settings (N shards, shared client/subscriber connections, the same
 * job options and job ids): addBulk in groups of `group`, then no-op processing at Herald's concurrency.
 */
async function bull({ redisUrl, prefix, shards = 8, jobs, concurrency = 100, group = 500 }) {
  const connections = [];
  const connect = () => {
    const r = new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: false });
    r.setMaxListeners(0);
    connections.push(r);
    return r;
  };
  let client;
  let subscriber;
  const createClient = (type) => (type === 'client' ? (client ??= connect()) : type === 'subscriber' ? (subscriber ??= connect()) : connect());
  const settings = { lockDuration: 90000, lockRenewTime: 15000, stalledInterval: 30000, maxStalledCount: 10 };
  const queues = Array.from({ length: shards }, (_, i) => new Queue(`{deliveries.${i}}`, { prefix, createClient, settings }));
  await Promise.all(queues.map((q) => q.isReady()));
  const opts = { removeOnComplete: true, removeOnFail: true, attempts: 5, backoff: { type: 'exponential', delay: 1000 } };

  const items = Array.from({ length: jobs }, (_, i) => ({ id: `dlv_${ulid()}`, shard: i % shards }));
  const t0 = now();
  // two groups in flight, as the publisher has two commits in flight
  let next = 0;
  const adder = async () => {
    while (next < items.length) {
      const chunk = items.slice(next, next + group);
      next += group;
      const byShard = new Map();
      for (const it of chunk) (byShard.get(it.shard) || byShard.set(it.shard, []).get(it.shard)).push(it);
      await Promise.all([...byShard].map(([shard, list]) => queues[shard].addBulk(list.map((it) => ({ data: { deliveryId: it.id, attempt: 1 }, opts: { ...opts, jobId: `${it.id}:1` } })))));
    }
  };
  await Promise.all([adder(), adder()]);
  const addElapsed = now() - t0;

  const perShard = Math.max(1, Math.ceil(concurrency / shards));
  let completed = 0;
  const t1 = now();
  await new Promise((resolve) => {
    for (const q of queues) {
      q.on('completed', () => {
        if (++completed === jobs) resolve();
      });
      void q.process(perShard, async () => undefined);
    }
  });
  const processElapsed = now() - t1;
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
  return { jobs, shards, perShard, addPerSecond: jobs / (addElapsed / 1000), processPerSecond: jobs / (processElapsed / 1000) };
}

/** undici POSTs of a 1 KB body over keep-alive, `concurrency` in flight (Herald's worker concurrency), through an Agent set up like Herald's. */
async function undiciPost({ url, durationMs, concurrency = 100, body }) {
  const agent = new Agent({ keepAliveTimeout: 10000, keepAliveMaxTimeout: 60000, connections: null, pipelining: 1 });
  const headers = { 'content-type': 'application/json', 'user-agent': 'Herald/bench' };
  let n = 0;
  const lat = [];
  const loop = async (until, measure) => {
    while (now() < until) {
      const started = now();
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode}`);
      if (measure) {
        n++;
        lat.push(now() - started);
      }
    }
  };
  const warm = now() + Math.min(1000, durationMs / 4);
  await Promise.all(Array.from({ length: concurrency }, () => loop(warm, false)));
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, () => loop(t0 + durationMs, true)));
  const elapsed = now() - t0;
  await agent.close();
  return { concurrency, perSecond: n / (elapsed / 1000), latency: summarize(lat) };
}

module.exports = { pgInsert, bull, undiciPost };
