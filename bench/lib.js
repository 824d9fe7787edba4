'use strict';
// Shared helpers of the benchmark: statistics, ports, child processes, HTTP, PostgreSQL and Redis housekeeping.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { request } = require('undici');

const ROOT = path.join(__dirname, '..');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
/** Wall-clock ms with sub-ms precision; comparable across processes on one machine. */
const wallNow = () => performance.timeOrigin + performance.now();

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50/p90/p99/max of latencies in ms. */
function summarize(values) {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    mean: s.length ? sum / s.length : null,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : null,
  };
}

function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function waitFor(what, fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

async function http(method, url, body, headers = {}) {
  const res = await request(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* keep the text */
  }
  return { status: res.statusCode, body: json };
}

/** A child Node process whose output is kept (the tail) for error messages. */
function spawnNode(script, { env, name, execArgv = [], ipc = false }) {
  const child = spawn(process.execPath, [...execArgv, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => {
    output += d;
    if (output.length > 20000) output = output.slice(-10000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc = {
    name,
    child,
    exited,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(graceMs = 25000) {
      if (!proc.alive()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => proc.alive() && child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return proc;
}

/** Sends an IPC message to a child and waits for the reply carrying the same `rid`. */
let rid = 0;
function ask(child, message, timeoutMs = 30000) {
  const id = ++rid;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer to ${JSON.stringify(message).slice(0, 80)}`));
    }, timeoutMs);
    const onMessage = (m) => {
      if (m && m.rid === id) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.send({ ...message, rid: id });
  });
}

/** Deletes every Redis key matching the pattern (SCAN + UNLINK); returns how many. */
async function deleteKeys(redis, pattern) {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function countKeys(redis, pattern) {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

function dbUrl(adminUrl, database) {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Herald's shard of an endpoint (FNV-1a, as src/queues/delivery-queues.ts). */
function shardOf(endpointId, shards) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < endpointId.length; i++) {
    hash ^= endpointId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

const fmt = {
  int: (v) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US')),
  ms: (v) => (v === null || v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`),
  pct: (v) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(0)} %`),
};

module.exports = { shardOf, ROOT, sleep, now, wallNow, percentile, summarize, portFree, waitFor, http, spawnNode, ask, deleteKeys, countKeys, dbUrl, fmt };
