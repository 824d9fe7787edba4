import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { createApp } from '../../src/bootstrap';
import { HeraldConfig, loadConfig } from '../../src/config/config';
import { createTestDatabase } from './database';
import { waitFor } from './wait';

export const ADMIN_KEY = 'test_admin_key_0123456789';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for Herald's API; every call goes over real HTTP. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly key: string | null = ADMIN_KEY,
  ) {}

  as(key: string | null): ApiClient {
    return new ApiClient(this.baseUrl, key);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (this.key) (init.headers as Record<string, string>).authorization = `Bearer ${this.key}`;
    if (body !== undefined) {
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
    }
    const res = await fetch(this.baseUrl + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body ?? {}, headers);
  }
  patch<T = any>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

export interface HeraldEnv {
  [name: string]: string;
}

/** Deletes every key under a queue prefix on one Redis: all an installation keeps there (a FLUSHALL for it alone). */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * Deletes the Redis keys a test installation made (its queues, limiters and admission counters all live under its
 * prefix), so that test runs do not pile keys up in a Redis they share. A Redis Cluster in a test is the test's own
 * and goes with it, so only a standalone Redis is swept. Best effort: a Redis a test stopped is not waited for.
 */
export async function dropQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  if (!redisUrl.startsWith('redis://')) return;
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await deleteKeysUnder(redis, prefix);
  } catch {
    // a Redis the test stopped: its keys stay behind, under a prefix no other run uses
  } finally {
    redis.disconnect();
  }
}

/**
 * Settings for a test installation: its own database and queue prefix, loopback allowed, fast sweeps. `dispose` drops
 * the database and the Redis keys under the prefix; stop the installation's processes first.
 */
export async function testEnvironment(overrides: HeraldEnv = {}): Promise<{ env: HeraldEnv; dispose: () => Promise<void> }> {
  const database = await createTestDatabase();
  const env: HeraldEnv = {
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    HERALD_ADMIN_KEY: ADMIN_KEY,
    HERALD_QUEUE_PREFIX: `herald-test-${randomBytes(4).toString('hex')}`,
    HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
    HERALD_SWEEP_INTERVAL_MS: '500',
    HERALD_SWEEP_GRACE_MS: '3000',
    HERALD_SHARDS: '4',
    HERALD_LOG_LEVEL: 'warn',
    ...overrides,
  };
  return {
    env,
    dispose: async () => {
      await database.drop();
      await dropQueueKeys(env.REDIS_URL, env.HERALD_QUEUE_PREFIX);
    },
  };
}

export interface Herald {
  url: string;
  config: HeraldConfig;
  env: HeraldEnv;
  api: ApiClient;
  /** Direct SQL, for asserting what is stored. */
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** A few connections for a test's direct SQL: tests run several at once (Promise.all), which one connection would queue. */
async function sqlPool(url: string) {
  const pool = new Pool({ connectionString: url, max: 4 });
  // A test that stops PostgreSQL under it: the next query fails, an idle connection must not crash jest.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  return pool;
}

/** Herald in this process (role `all` unless told otherwise), on a free port. */
export async function startHerald(overrides: HeraldEnv = {}, shared?: { env: HeraldEnv }): Promise<Herald> {
  const { env, dispose } = shared ? { env: { ...shared.env, ...overrides }, dispose: async () => undefined } : await testEnvironment(overrides);
  const config = loadConfig(env);
  const app: NestFastifyApplication = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const db = await sqlPool(env.DATABASE_URL);
  return {
    url: url.replace('[::1]', '127.0.0.1'),
    config,
    env,
    api: new ApiClient(url),
    sql: async (text, params) => (await db.query(text, params as unknown[])).rows,
    async close() {
      await app.close();
      await db.end();
      if (!shared) await dispose();
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface HeraldProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Herald processes that ended without being stopped: a crash, with the end of what it printed. */
const crashes: string[] = [];
export const crashed = (): readonly string[] => crashes;
/** Herald processes spawned and not yet stopped, for a test's report of what they were doing when it failed. */
const live = new Set<HeraldProcess & { role: string }>();
export const running = (): readonly (HeraldProcess & { role: string })[] => [...live];

/** Herald as a separate process from dist/ (run `npm run build` first), for tests of roles and crashes. */
export async function spawnHerald(env: HeraldEnv, { startTimeoutMs = 30_000 } = {}): Promise<HeraldProcess> {
  const port = await freePort();
  const role = env.HERALD_ROLE ?? 'all';
  const child = spawn(process.execPath, [join(__dirname, '../../dist/main.js')], {
    env: { PATH: process.env.PATH, ...env, PORT: String(port), HERALD_METRICS_PORT: String(port), HOST: '127.0.0.1', HERALD_LOG_LEVEL: env.HERALD_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  let stopping = false;
  const exited = once(child, 'exit').then(([code, signal]) => {
    if (!stopping) crashes.push(`herald ${role} exited by itself with ${code ?? signal}; its output ends: ${output.slice(-2000)}`);
    throw new Error(`herald ${role} exited with ${code}: ${output}`);
  });
  const started = waitFor(`herald ${role} to start`, async () => (await fetch(`${url}/health/live`).catch(() => null))?.ok, startTimeoutMs, 100);
  exited.catch(() => undefined);
  try {
    await Promise.race([started, exited]);
  } catch (error) {
    // A process that did not start is not left running, and its output says why.
    stopping = true;
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; output: ${output.slice(-3000)}`);
  }
  const herald = {
    child,
    url,
    role,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      live.delete(herald);
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      stopping = true;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
  live.add(herald);
  void exited.catch(() => live.delete(herald));
  return herald;
}
