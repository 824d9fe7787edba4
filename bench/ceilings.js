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

/**
 * Attempt rows written per second the way attempt-recorder.ts writes them: one statement per group that
 * moves the deliveries to `succeeded` and inserts their attempt rows, `conns` groups in flight.
 */
async function attemptWrite({ url, durationMs, group = 50, conns = 2 }) {
  const clients = [];
  for (let i = 0; i < conns; i++) {
    const c = new Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
  }
  const tenantId = `tnt_${ulid()}`;
  const endpointId = `ep_${ulid()}`;
  const eventId = `evt_${ulid()}`;
  await clients[0].query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench-ceiling')`, [tenantId]);
  await clients[0].query(`INSERT INTO events (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, 'bench.ceiling', '{}', now())`, [eventId, tenantId]);
  // pending deliveries to record attempts for, made ahead in groups of the same size
  const newGroup = async (c) => {
    const ids = Array.from({ length: group }, () => `dlv_${ulid()}`);
    await c.query(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
       SELECT d, $2, $3, $4, 'bench.ceiling', 'pending', 0, now(), 'initial', now(), now() FROM unnest($1::varchar[]) AS d`,
      [ids, tenantId, eventId, endpointId],
    );
    return ids;
  };
  let rows = 0;
  const commitMs = [];
  const loop = async (c, until, measure) => {
    while (now() < until) {
      const ids = await newGroup(c);
      const started = now();
      const at = new Date();
      await c.query(
        `WITH input AS (
           SELECT * FROM unnest($1::varchar[], $2::varchar[]) AS t(id, delivery_id)
         ), updated AS (
           UPDATE deliveries d SET status = 'succeeded', attempt_count = 1, next_attempt_at = NULL, next_trigger = 'retry', last_status_code = 200, last_error = NULL, updated_at = now()
           FROM input i WHERE d.id = i.delivery_id AND d.status = 'pending' AND d.attempt_count = 0
           RETURNING i.id
         )
         INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, response_body, response_headers, error)
         SELECT i.id, i.delivery_id, $3, 1, 'initial', $4, 1, 200, 'ok', '{"content-type":"text/plain"}'::jsonb, NULL FROM input i JOIN updated u ON u.id = i.id`,
        [ids.map(() => `att_${ulid()}`), ids, endpointId, at],
      );
      if (measure) {
        commitMs.push(now() - started);
        rows += group;
      }
    }
  };
  await Promise.all(clients.map((c) => loop(c, now() + Math.min(1000, durationMs / 4), false)));
  // only the recording statements are timed: the deliveries they need are made between them, off the clock
  const t0 = now();
  await Promise.all(clients.map((c) => loop(c, t0 + durationMs, true)));
  const timed = commitMs.reduce((a, b) => a + b, 0) / conns;
  await clients[0].query('DELETE FROM events WHERE id = $1', [eventId]);
  await clients[0].query('DELETE FROM tenants WHERE id = $1', [tenantId]);
  await clients[0].query('VACUUM ANALYZE deliveries');
  await clients[0].query('VACUUM ANALYZE attempts');
  await Promise.all(clients.map((c) => c.end()));
  return { group, conns, rowsPerSecond: rows / (timed / 1000), commitLatency: summarize(commitMs) };
}

/**
 * Bull in open loop for the knee: jobs added at a fixed rate (addBulk of what is due each millisecond,
 * by shard) and processed by no-op processors at Herald's concurrency; latency from each job's scheduled
 * time to its processing. `step(rate, ms)` runs one step; `close()` when done.
 */
async function openBull({ redisUrl, prefix, shards = 8, concurrency = 100 }) {
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
  const queues = Array.from({ length: shards }, (_, i) => new Queue(`{knee.${i}}`, { prefix, createClient, settings }));
  await Promise.all(queues.map((q) => q.isReady()));
  const opts = { removeOnComplete: true, removeOnFail: true, attempts: 5, backoff: { type: 'exponential', delay: 1000 } };
  let current = null;
  for (const q of queues) {
    void q.process(Math.max(1, Math.ceil(concurrency / shards)), async (job) => {
      const s = current;
      if (!s || job.data.step !== s.id) return;
      s.latencies[job.data.i] = performance.timeOrigin + now() - job.data.at;
      if (++s.done === s.total) s.resolve();
    });
  }
  let stepId = 0;
  const step = (rate, durationMs) =>
    new Promise((resolve) => {
      const total = Math.max(1, Math.round((rate * durationMs) / 1000));
      const s = { id: ++stepId, total, done: 0, latencies: new Float64Array(total).fill(NaN), resolve: null };
      current = s;
      const t0 = now() + 10;
      let sent = 0;
      let failed = 0;
      const finished = new Promise((r) => (s.resolve = r));
      const tick = () => {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
        if (due > sent) {
          const byShard = new Map();
          for (; sent < due; sent++) {
            const at = performance.timeOrigin + t0 + (sent * 1000) / rate;
            const shard = sent % shards;
            (byShard.get(shard) || byShard.set(shard, []).get(shard)).push({ data: { step: s.id, i: sent, at }, opts: { ...opts, jobId: `k${s.id}:${sent}` } });
          }
          for (const [shard, list] of byShard) queues[shard].addBulk(list).catch(() => (failed += list.length));
        }
        if (sent < total) setTimeout(tick, 1);
      };
      setTimeout(tick, 10);
      const deadline = new Promise((r) => setTimeout(r, durationMs + 10000));
      void Promise.race([finished, deadline]).then(() => {
        current = null;
        const got = Array.from(s.latencies).filter((v) => !Number.isNaN(v));
        const missing = total - got.length;
        resolve({ rate, achievedRate: got.length / (durationMs / 1000), failed: failed + missing, latency: summarize(missing ? [...got, ...Array(missing).fill(Infinity)] : got) });
      });
    });
  const close = async () => {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
  };
  return { step, close };
}

/** undici in open loop for the knee: POSTs of 1 KB at a fixed rate over keep-alive, no cap on requests in flight. */
/** A knee step with more than this much of its rate due and unanswered has failed (its p99 is past 50 ms many times over). */
const KNEE_BACKLOG_MS = 250;

function openUndici({ url, body }) {
  const agent = new Agent({ keepAliveTimeout: 10000, keepAliveMaxTimeout: 60000, connections: null, pipelining: 1 });
  const headers = { 'content-type': 'application/json', 'user-agent': 'Herald/bench' };
  const step = (rate, durationMs) =>
    new Promise((resolve) => {
      const total = Math.max(1, Math.round((rate * durationMs) / 1000));
      const latencies = new Float64Array(total);
      let sent = 0;
      let issued = total; // fewer when the step gives up
      let done = 0;
      let failed = 0;
      const t0 = now() + 10;
      const one = (i) => {
        const intended = t0 + (i * 1000) / rate;
        request(url, { method: 'POST', headers, body, dispatcher: agent })
          .then(async (res) => {
            await res.body.text();
            if (res.statusCode !== 200) failed++;
          })
          .catch(() => failed++)
          .finally(() => {
            latencies[i] = now() - intended;
            if (++done === total) resolve({ rate, achievedRate: (total - failed) / (Math.max(durationMs, now() - t0) / 1000), failed, latency: summarize(latencies.subarray(0, issued)) });
          });
      };
      // Requests wait in undici for a connection (or a socket to open) once the receiver falls behind; more than a
      // quarter of a second's worth due and unanswered and the step has failed: the rest counts as not sent (it would
      // otherwise open a socket for every request, and run for minutes).
      const tick = () => {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
        if (due - done > Math.max(100, (rate * KNEE_BACKLOG_MS) / 1000)) {
          issued = sent;
          const rest = total - sent;
          failed += rest;
          sent = total;
          done += rest;
          if (done === total) resolve({ rate, achievedRate: 0, failed, latency: summarize(latencies.subarray(0, issued)) });
          return;
        }
        while (sent < due) one(sent++);
        if (sent < total) setTimeout(tick, 1);
      };
      setTimeout(tick, 10);
    });
  return { step, close: () => agent.close() };
}

module.exports = { pgInsert, bull, undiciPost, attemptWrite, openBull, openUndici };
