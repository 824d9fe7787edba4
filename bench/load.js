'use strict';
// Load generators. `openLoop` sends at a fixed rate whatever the server does (requests are scheduled
// in advance; each latency runs from its scheduled time, so a stalled server is not flattered by
// coordinated omission). `closedLoop` (autocannon, N connections) finds the maximum throughput.
const autocannon = require('autocannon');
const net = require('node:net');
const { summarize } = require('./lib');

/**
 * POSTs `rate` requests per second for `durationMs` to origin+path over `connections` keep-alive
 * connections (a lean HTTP/1.1 client on raw sockets, so that the generator costs about what autocannon
 * costs). Request i is scheduled at t0 + i/rate whatever the server does; when no connection is free it
 * waits in a queue, and its latency runs from its scheduled time. `makeBody(i, publishTimeWallMs)` builds
 * request i. Returns achieved rate, latency (ms), statuses, errors, and (collectIds) the `id` of every 2xx.
 */
function openLoop({ origin, path, rate, durationMs, headers, makeBody, connections = 32, collectIds = false, giveUpAfterMs = null }) {
  const { hostname, port } = new URL(origin);
  const head = `POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\nconnection: keep-alive\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}content-length: `;
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  const statuses = {};
  const errors = {};
  const ids = collectIds ? [] : null;
  const queue = [];
  const idle = [];
  const sockets = [];
  let lastBody = null;
  let lastBuf = null;
  let sent = 0;
  let done = 0;
  let ok = 0;
  let maxLag = 0;
  let lastDone = 0;
  let resolveAll;
  const finished = new Promise((r) => (resolveAll = r));
  const t0 = performance.now() + 20;

  const complete = (job, status, body, error) => {
    lastDone = performance.now();
    latencies[job.i] = lastDone - job.intended;
    if (error) errors[error] = (errors[error] || 0) + 1;
    else {
      statuses[status] = (statuses[status] || 0) + 1;
      if (status >= 200 && status < 300) {
        ok++;
        if (ids) {
          try {
            ids.push(JSON.parse(body).id);
          } catch {
            /* no id */
          }
        }
      }
    }
    if (++done === total) resolveAll();
  };

  const connect = () => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setNoDelay(true);
    const conn = { socket, job: null, buf: null, ready: false };
    socket.on('connect', () => {
      conn.ready = true;
      release(conn);
    });
    socket.on('data', (chunk) => {
      conn.buf = conn.buf ? Buffer.concat([conn.buf, chunk]) : chunk;
      for (;;) {
        const end = conn.buf.indexOf('\r\n\r\n');
        if (end < 0 || !conn.job) return;
        const headText = conn.buf.toString('latin1', 0, end);
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
        const length = m ? Number(m[1]) : 0;
        if (conn.buf.length < end + 4 + length) return;
        const status = Number(headText.slice(9, 12));
        const body = collectIds ? conn.buf.toString('utf8', end + 4, end + 4 + length) : null;
        conn.buf = conn.buf.length > end + 4 + length ? conn.buf.subarray(end + 4 + length) : null;
        const job = conn.job;
        conn.job = null;
        complete(job, status, body, null);
        release(conn);
        if (!conn.buf) return;
      }
    });
    const broken = (err) => {
      if (conn.dead) return;
      conn.dead = true;
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      if (conn.job) complete(conn.job, 0, null, (err && err.code) || 'closed');
      conn.job = null;
      if (done < total) sockets[sockets.indexOf(conn)] = connect();
    };
    socket.on('error', broken);
    socket.on('close', () => broken(null));
    return conn;
  };

  const send = (conn, job) => {
    conn.job = job;
    const lag = performance.now() - job.intended;
    if (lag > maxLag) maxLag = lag;
    const body = makeBody(job.i, performance.timeOrigin + job.intended);
    let buf;
    if (body === lastBody) buf = lastBuf;
    else {
      const b = Buffer.from(body);
      buf = Buffer.concat([Buffer.from(`${head}${b.length}\r\n\r\n`), b]);
      lastBody = body;
      lastBuf = buf;
    }
    conn.socket.write(buf);
  };

  const release = (conn) => {
    if (conn.dead) return;
    const job = queue.shift();
    if (job) send(conn, job);
    else idle.push(conn);
  };

  for (let c = 0; c < connections; c++) sockets.push(connect());

  const tick = () => {
    // Further behind than the grace already (a knee step the system cannot hold): the step has failed, stop now.
    if (giveUpAfterMs !== null && queue.length * interval > giveUpAfterMs) return giveUp();
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (sent < due) {
      const job = { i: sent, intended: t0 + sent * interval };
      sent++;
      const conn = idle.pop();
      if (conn) send(conn, job);
      else queue.push(job);
    }
    if (sent < total) setTimeout(tick, 1);
    else if (giveUpAfterMs !== null) setTimeout(giveUp, Math.max(0, t0 + durationMs + giveUpAfterMs - performance.now()));
  };
  setTimeout(tick, 20);

  // A step that fell behind would otherwise run on for as long as the backlog takes (minutes when the system
  // collapsed): past the grace, the requests not yet sent count as failed and the step ends with those in flight.
  const giveUp = () => {
    const notSent = queue.splice(0, queue.length);
    while (sent < total) notSent.push({ i: sent, intended: t0 + sent++ * interval });
    for (const job of notSent) complete(job, 0, null, 'not sent: the step was over');
  };

  return finished.then(() => {
    for (const conn of sockets) {
      conn.dead = true;
      conn.socket.destroy();
    }
    const elapsed = lastDone - t0;
    return {
      rate,
      scheduled: total,
      ok,
      failed: total - ok,
      achievedRate: ok / (Math.max(durationMs, elapsed) / 1000),
      latency: summarize(latencies),
      statuses,
      errors,
      maxSendDelayMs: maxLag,
      ids,
    };
  });
}

/** autocannon with `connections` connections for `durationS`: throughput and latency at saturation. */
function closedLoop({ url, method = 'POST', connections, durationS, headers, body }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method, connections, duration: durationS, headers, body, pipelining: 1, timeout: 30 }, (err, r) => {
      if (err) return reject(err);
      const good = r['2xx'];
      resolve({
        connections,
        durationS: r.duration,
        ok: good,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        rate: good / r.duration,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
      });
    });
  });
}

module.exports = { openLoop, closedLoop };
