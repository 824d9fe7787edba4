'use strict';
// The bench receiver, a child process: answers 200 at once over keep-alive and records, per first path
// segment ("tag"), every arrival time and webhook-id, and the latency arrival − publish time where the
// payload carries the publish time `t` (wall-clock ms). The parent queries it over IPC.
// Paths whose first segment starts with "slow" answer like production receivers: after BENCH_RECEIVER_SLOW_MS
// (default 200) ± 25 %, over keep-alive; the most requests in flight at once is kept per first segment.
// `/hold/<ms>/…` answers after exactly <ms> (requests held open, for the in-flight scenario); `/otlp/…` is an
// OTLP/HTTP sink: it answers 200 with an empty protobuf body at once and only counts requests and bytes.
const http = require('node:http');

const port = Number(process.env.BENCH_RECEIVER_PORT);
const SLOW_MS = Number(process.env.BENCH_RECEIVER_SLOW_MS || 200);
const tags = new Map();
const inFlight = new Map();

function tagOf(name) {
  let t = tags.get(name);
  if (!t) {
    t = { count: 0, ids: new Set(), duplicates: 0, arrivals: [], latencies: [], maxInFlight: 0 };
    tags.set(name, t);
  }
  return t;
}

/** Recorded under the first path segment (`/e2e/3` → `e2e`) and under the first two (`e2e/3`). */
function record(url, id, body, at) {
  const parts = url.split('/');
  let name = parts[1] || 'root';
  let t0 = null;
  let warm = false;
  if (id && body.length) {
    // The publish time and the warm-up flag sit at the start of the payload; parse it whole anyway (1 KB).
    try {
      const payload = JSON.parse(body);
      if (payload.w) warm = true;
      if (typeof payload.t === 'number') t0 = payload.t;
    } catch {
      /* not JSON */
    }
  }
  if (warm) name += '-warm';
  add(name, id, at, t0);
  if (parts[2] && !warm) add(`${parts[1]}/${parts[2]}`, id, at, t0);
}

function add(name, id, at, t0) {
  const t = tagOf(name);
  t.count++;
  t.arrivals.push(at);
  if (id) {
    if (t.ids.has(id)) t.duplicates++;
    else t.ids.add(id);
  }
  if (t0 !== null) t.latencies.push(at - t0);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  const first = req.url.split('/')[1] || 'root';
  const flying = (inFlight.get(first) || 0) + 1;
  inFlight.set(first, flying);
  const t = tagOf(first);
  if (flying > t.maxInFlight) t.maxInFlight = flying;
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    if (first === 'otlp') {
      inFlight.set(first, inFlight.get(first) - 1);
      t.bytes = (t.bytes || 0) + chunks.reduce((n, c) => n + c.length, 0);
      add('otlp', null, at, null);
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      return res.end();
    }
    const answer = () => {
      inFlight.set(first, inFlight.get(first) - 1);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    };
    if (first.startsWith('slow')) setTimeout(answer, SLOW_MS * (0.75 + Math.random() * 0.5));
    else if (first === 'hold') setTimeout(answer, Number(req.url.split('/')[2]) || 1000);
    else answer();
    record(req.url, req.headers['webhook-id'], chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), at);
  });
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 70000;
server.maxRequestsPerSocket = 0;

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

process.on('message', (m) => {
  const reply = (data) => process.send({ rid: m.rid, ...data });
  if (m.cmd === 'reset') {
    for (const name of m.tags) tags.delete(name);
    return reply({ ok: true });
  }
  if (m.cmd === 'stats') {
    const t = tags.get(m.tag) || { count: 0, ids: new Set(), duplicates: 0, arrivals: [], latencies: [], maxInFlight: 0 };
    const lat = Float64Array.from(t.latencies).sort();
    let first = null;
    let last = null;
    let inWindow = null;
    for (const a of t.arrivals) {
      if (first === null || a < first) first = a;
      if (last === null || a > last) last = a;
    }
    if (m.window) inWindow = t.arrivals.filter((a) => a >= m.window[0] && a <= m.window[1]).length;
    return reply({
      count: t.count,
      unique: t.ids.size,
      duplicates: t.duplicates,
      first,
      last,
      inWindow,
      maxInFlight: t.maxInFlight,
      inFlight: inFlight.get(m.tag) || 0,
      bytes: t.bytes || 0,
      latency: { n: lat.length, p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), max: lat.length ? lat[lat.length - 1] : null },
      ids: m.ids ? [...t.ids] : undefined,
    });
  }
  if (m.cmd === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});

server.listen(port, '127.0.0.1', () => process.send({ ready: true, port }));
process.on('disconnect', () => process.exit(0));
