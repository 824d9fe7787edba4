import { execFileSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parseAllowList } from '../../src/common/address-guard';
import { StopNotice } from '../../src/common/stop-notice';
import { HttpSender, MAX_RESPONSE_BODY_BYTES, SendRequest } from '../../src/deliveries/http-sender';
import { waitFor } from '../support/wait';

// Jest 29 ignores a per-project testTimeout, so set it here.
jest.setTimeout(30_000);

interface Seen {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  servername?: string | false | null;
}

interface TestServer {
  host: string;
  port: number;
  /** TCP connections accepted. */
  connections: number;
  requests: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function listen(server: net.Server, host = '127.0.0.1', collect?: Seen[]): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const state: TestServer = {
    host,
    port: 0,
    connections: 0,
    requests: collect ?? [],
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  // Raw TCP connections, for HTTP and HTTPS alike: "no connection" means not even a handshake.
  server.on('connection', (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  servers.push(state);
  return state;
}

/** An HTTP server that records each request, then lets `respond` answer it. */
function httpServer(respond: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      respond(req, res);
    });
  });
  return listen(server, '127.0.0.1', seen);
}

const urlOf = (s: TestServer, path = '/hook') => `http://${s.host}:${s.port}${path}`;

const post = (url: string, extra: Partial<SendRequest> = {}): SendRequest => ({
  url,
  headers: { 'webhook-id': 'evt_1', 'x-custom': 'yes' },
  body: '{"hello":"world"}',
  timeoutMs: 5_000,
  ...extra,
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('HttpSender with 127.0.0.0/8 allowed', () => {
  const sender = new HttpSender({ allow: parseAllowList('127.0.0.0/8'), userAgent: 'Herald/test' });
  afterAll(() => sender.close());

  it('POSTs the body and headers and returns a 200 with its body and headers', async () => {
    const server = await httpServer((_req, res) => {
      res.setHeader('x-reply', 'ok');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('thanks');
    });
    const result = await sender.send(post(urlOf(server)));

    expect(result).toMatchObject({ statusCode: 200, responseBody: 'thanks', error: null, retryAfterMs: null });
    expect(result.responseHeaders).toMatchObject({ 'x-reply': 'ok', 'set-cookie': 'a=1, b=2' });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: '{"hello":"world"}' });
    expect(server.requests[0].headers).toMatchObject({
      'user-agent': 'Herald/test',
      'content-type': 'application/json',
      'webhook-id': 'evt_1',
      'x-custom': 'yes',
    });
  });

  it('keeps a caller-given user-agent or content-type instead of adding its own', async () => {
    const server = await httpServer((_req, res) => res.end());
    await sender.send(post(urlOf(server), { headers: { 'User-Agent': 'custom', 'Content-Type': 'text/plain' } }));
    expect(server.requests[0].headers['user-agent']).toBe('custom');
    expect(server.requests[0].headers['content-type']).toBe('text/plain');
  });

  it('returns a 500 as a response, not an error', async () => {
    const server = await httpServer((_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    expect(await sender.send(post(urlOf(server)))).toMatchObject({ statusCode: 500, responseBody: 'broken', error: null });
  });

  it('does not follow a redirect', async () => {
    const server = await httpServer((req, res) => {
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    const result = await sender.send(post(urlOf(server)));
    expect(result).toMatchObject({ statusCode: 302, error: null });
    expect(result.responseHeaders?.location).toBe('/elsewhere');
    expect(server.requests).toHaveLength(1);
  });

  it('keeps only the first 4096 bytes of a 1 MB response', async () => {
    const server = await httpServer((_req, res) => res.end('x'.repeat(1024 * 1024)));
    const result = await sender.send(post(urlOf(server)));
    expect(result.error).toBeNull();
    expect(result.statusCode).toBe(200);
    expect(result.responseBody).toHaveLength(MAX_RESPONSE_BODY_BYTES);
  });

  // These servers never finish answering: the send can only end by the sender's own deadline (error
  // timeout), never before it. How late a busy machine fires that timer is not asserted.
  it('times out a server that never answers at about timeoutMs', async () => {
    const server = await httpServer(() => undefined);
    const result = await sender.send(post(urlOf(server), { timeoutMs: 300 }));
    expect(result).toMatchObject({ statusCode: null, responseBody: null, error: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(295);
  });

  it('times out a body that stalls after the headers, keeping the status', async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const result = await sender.send(post(urlOf(server), { timeoutMs: 300 }));
    expect(result).toMatchObject({ statusCode: 200, responseBody: 'partial', error: 'timeout' });
  });

  // A stop out of grace cuts off what is still sending; the result says Herald did it, so nothing is recorded against
  // the receiver. The deadline here is far off: only the stop can end these sends.
  it('ends a send still waiting for its answer when the worker stops, as aborted by Herald', async () => {
    const server = await httpServer(() => undefined);
    const stop = new StopNotice();
    const sending = sender.send(post(urlOf(server), { timeoutMs: 25_000 }), stop);
    await waitFor('the request at the server', () => server.requests.length === 1);
    stop.stop();
    expect(await sending).toMatchObject({ statusCode: null, abortedByHerald: true, error: expect.any(String) });
  });

  it('ends a send still connecting when the worker stops, and sends nothing after a stop', async () => {
    const silent = await listen(net.createServer(() => undefined));
    const stop = new StopNotice();
    const sending = sender.send(post(`https://127.0.0.1:${silent.port}/`, { timeoutMs: 25_000 }), stop);
    await waitFor('the connection at the server', () => silent.connections === 1);
    stop.stop();
    expect(await sending).toMatchObject({ statusCode: null, abortedByHerald: true });

    const server = await httpServer((_req, res) => res.end('ok'));
    expect(await sender.send(post(urlOf(server)), stop)).toMatchObject({ statusCode: null, abortedByHerald: true });
    expect(server.requests).toHaveLength(0);
  });

  it('times out while the connection is still being set up (TLS handshake never answered)', async () => {
    const silent = await listen(net.createServer(() => undefined));
    const result = await sender.send(post(`https://127.0.0.1:${silent.port}/`, { timeoutMs: 300 }));
    expect(result.error).toBe('timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(295);
  });

  it('reports a socket destroyed before any response as connection_reset', async () => {
    const server = await listen(net.createServer((socket) => socket.once('data', () => socket.destroy())));
    const result = await sender.send(post(urlOf(server)));
    expect(result).toMatchObject({ statusCode: null, error: 'connection_reset' });
  });

  it('reports a closed port as connection_refused', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    expect(await sender.send(post(`http://127.0.0.1:${port}/`))).toMatchObject({ statusCode: null, error: 'connection_refused' });
  });

  it('reports a name that does not resolve as dns', async () => {
    expect(await sender.send(post('http://nonexistent.invalid/hook'))).toMatchObject({ statusCode: null, error: 'dns' });
  });

  it('parses Retry-After on a 429, in seconds or as an HTTP date', async () => {
    const seconds = await httpServer((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    expect(await sender.send(post(urlOf(seconds)))).toMatchObject({ statusCode: 429, retryAfterMs: 7_000, error: null });

    const at = new Date(Date.now() + 60_000).toUTCString();
    const date = await httpServer((_req, res) => res.writeHead(429, { 'retry-after': at }).end());
    const result = await sender.send(post(urlOf(date)));
    expect(result.retryAfterMs).toBeGreaterThan(55_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('reuses one keep-alive connection for sequential sends to the same origin', async () => {
    const server = await httpServer((_req, res) => res.end('ok'));
    expect((await sender.send(post(urlOf(server)))).statusCode).toBe(200);
    // undici hands a socket back to the pool one event-loop turn after a response completes
    // (setImmediate, in case the server closes it despite keep-alive); a send in that same turn
    // would open a second connection.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await sender.send(post(urlOf(server)))).statusCode).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(server.connections).toBe(1);
  });

  it('fails a TLS handshake with a plain-HTTP server as tls', async () => {
    const server = await httpServer((_req, res) => res.end());
    expect(await sender.send(post(`https://127.0.0.1:${server.port}/`))).toMatchObject({ error: 'tls' });
  });
});

describe('HttpSender with nothing allowed', () => {
  const sender = new HttpSender({ allow: parseAllowList(''), userAgent: 'Herald/test' });
  afterAll(() => sender.close());

  let server: TestServer;
  beforeAll(async () => {
    server = await httpServer((_req, res) => res.end('should never be reached'));
  });

  it.each([
    ['the loopback literal', (port: number) => `http://127.0.0.1:${port}/`],
    ['a name resolving to loopback, refused at connect time', (port: number) => `http://localhost:${port}/`],
    ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
    ['a decimal integer', (port: number) => `http://2130706433:${port}/`],
    ['a hex short form', (port: number) => `http://0x7f.1:${port}/`],
    ['an octal form', (port: number) => `http://0177.0.0.1:${port}/`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/`],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s with blocked_address, without connecting', async (_name, url) => {
    const result = await sender.send(post(url(server.port)));
    expect(result).toMatchObject({ statusCode: null, responseBody: null, error: 'blocked_address' });
    expect(server.connections).toBe(0);
  });
});

// Certificates come from the system openssl at run time, so no private key is committed.
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!openssl) console.warn('openssl not found: skipping the HTTPS tests of http-sender');

(openssl ? describe : describe.skip)('HttpSender over HTTPS (certificate for "localhost" only)', () => {
  let cert: string;
  let server: TestServer;
  let trusting: HttpSender;
  let untrusting: HttpSender;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    try {
      // Self-signed for the name only: no IP SAN, so a check against the IP would fail.
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      ], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const seen: Seen[] = [];
      const tlsServer = https.createServer({ key, cert }, (req, res) => {
        seen.push({ method: req.method ?? '', headers: req.headers, body: '', servername: (req.socket as TLSSocket).servername });
        req.resume();
        req.on('end', () => res.end('secure'));
      });
      // The sender connects to the first address "localhost" resolves to; listen there.
      server = await listen(tlsServer, (await lookup('localhost')).address, seen);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const allow = parseAllowList('127.0.0.0/8,::1/128');
    trusting = new HttpSender({ allow, userAgent: 'Herald/test', ca: cert });
    untrusting = new HttpSender({ allow, userAgent: 'Herald/test' });
  });

  afterAll(async () => {
    await trusting?.close();
    await untrusting?.close();
  });

  it('connects to the vetted IP while SNI and the certificate check use the name', async () => {
    const result = await trusting.send(post(`https://localhost:${server.port}/`));
    expect(result).toMatchObject({ statusCode: 200, responseBody: 'secure', error: null });
    expect(server.requests.at(-1)?.servername).toBe('localhost');
  });

  it('refuses a certificate that is not for the IP it was reached by, as tls', async () => {
    const ip = server.host.includes(':') ? `[${server.host}]` : server.host;
    expect(await trusting.send(post(`https://${ip}:${server.port}/`))).toMatchObject({ statusCode: null, error: 'tls' });
  });

  it('refuses an untrusted certificate as tls', async () => {
    expect(await untrusting.send(post(`https://localhost:${server.port}/`))).toMatchObject({ statusCode: null, error: 'tls' });
  });
});
