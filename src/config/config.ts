import { randomBytes } from 'node:crypto';
import { parseAllowList } from '../common/address-guard';

export type Role = 'api' | 'worker' | 'all';

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

/** Every setting Herald reads, validated once at start. Nothing else reads process.env. */
export interface HeraldConfig {
  nodeEnv: string;
  port: number;
  host: string;
  metricsPort: number;
  databaseUrl: string;
  redisUrl: string;
  /** REDIS_URL read: one server, or a Redis Cluster (`redis+cluster://host:port,host:port`). */
  redis: RedisTarget;
  role: Role;
  adminKey: string;
  encryptionKey: Buffer;
  shards: number;
  workerShards: number[];
  /**
   * Attempts one worker process has under way at once (claiming, sending, recording), shared fairly by all its
   * shards and endpoints. 2 000: with 100 receivers answering in 200 ms, 1 000 places were all taken (the receivers
   * saw up to 1 000 requests at once) while the worker's CPU had room; with 2 000 the worker's CPU is the bound.
   */
  workerConcurrency: number;
  /** Jobs each shard's consumer takes at once (claiming and planning; sends run on under workerConcurrency). */
  workerFetchConcurrency: number;
  /**
   * The same for each shard's bulk lane (replays, re-offers, bursts). As many as the live lane: one endpoint's
   * backlog sits in one bulk queue, and its fetches one after another were its ceiling (8: ~950 deliveries/s to a
   * 200 ms receiver; 32: ~1 950). Fairness between endpoints is the budget's, not the fetch's.
   */
  workerBulkFetchConcurrency: number;
  /** HERALD_BULK_THRESHOLD: more jobs than this for one endpoint in one enqueue go to its shard's bulk lane. */
  bulkThreshold: number;
  /**
   * HERALD_WORKER_HOLD_MAX: jobs a worker process takes from the queues beyond its budget and holds, waiting for a
   * place (so one endpoint's backlog does not block its shard); past it, the shard's consumer waits.
   */
  workerHoldMax: number;
  /** How long a stopping worker lets attempts in flight finish (keep the orchestrator's stop grace above it). */
  shutdownGraceMs: number;
  allowPrivateNetworks: string;
  maxPayloadBytes: number;
  retentionDays: number;
  /** HERALD_PUBLIC_URL: the base URL third parties reach this service at (for sources' ingestUrl); else taken from each request. */
  publicUrl?: string;
  migrate: boolean;
  sweepIntervalMs: number;
  sweepGraceMs: number;
  defaultRetryPolicy: RetryPolicy;
  publishBatchMax: number;
  /**
   * HERALD_PUBLISH_QUEUE_LIMIT: events that may wait for a commit in one API process. A publish that would
   * pass it is shed (503 with Retry-After, nothing stored) instead of waiting behind a queue that only grows.
   */
  publishQueueLimit: number;
  queuePrefix: string;
  /** Consecutive failed attempts that open an endpoint's circuit. */
  circuitThreshold: number;
  /** First cool-down of an open circuit; doubles on each failed probe, up to an hour. */
  circuitCooldownMs: number;
  /** An endpoint failing continuously for this long is disabled (disabledReason "failing"). */
  disableAfterMs: number;
  /** `silent` only for tests that run the app in-process. */
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** HERALD_OPERATOR_TENANT: uid of the tenant that receives Herald's operator events (herald.*), created on start; unset: none. */
  operatorTenant?: string;
  /** Deliveries a replay resends (or events it examines) per page; the next page waits for most of the last to be sent. */
  replayPageSize: number;
  version: string;
  /** Limits and timeouts that protect the service from its clients and from a stopped database (README, Operations). */
  limits: {
    /** A client must have sent its whole request (headers and body) within this, or it is disconnected. */
    requestTimeoutMs: number;
    /** ... and its headers within this. */
    headersTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: number;
    /** The body of any route other than publishing and /in/*. */
    maxBodyBytes: number;
    /** Live endpoints a tenant may have. */
    maxEndpointsPerTenant: number;
    /** Delivery rows one publish request may create (events × matching endpoints). */
    maxDeliveriesPerRequest: number;
    /** Opening a PostgreSQL connection may take this long before the request answers 503. */
    dbConnectTimeoutMs: number;
    /** A statement may run this long (server and client side) before it is cancelled. */
    dbStatementTimeoutMs: number;
  };
  /** Endpoints with series of their own in the metrics (the busiest); the rest are labelled "other". */
  metricsTopEndpoints: number;
  /** Tenants with series of their own in the metrics; the rest are labelled "other". */
  metricsTopTenants: number;
  tracing: TracingConfig;
  /** HERALD_VALIDATE_EVENTS: check every published payload against its event type's schema (else only types with validate: true). */
  validateEvents: boolean;
  /** HERALD_CONSOLE_FRAME_ANCESTORS: the CSP frame-ancestors sources that may embed /console ('none' by default). */
  consoleFrameAncestors: string;
}

/**
 * OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
 * set and OTEL_SDK_DISABLED is not true. Only these decide; the SDK itself reads the other standard
 * OTEL_* variables (headers, protocol details, sampler, resource attributes), as OpenTelemetry documents them.
 */
export interface TracingConfig {
  enabled: boolean;
  serviceName: string;
}

export class ConfigError extends Error {}

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean };

/**
 * REDIS_URL: `redis://…`/`rediss://…` for one server, or `redis+cluster://[user:pass@]host:port,host:port,…`
 * (`rediss+cluster://` with TLS) for a Redis Cluster: any reachable nodes, the rest are discovered.
 */
export function parseRedisTarget(raw: string): RedisTarget {
  const cluster = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/.exec(raw);
  if (!cluster) {
    if (/^rediss?\+cluster:/.test(raw)) throw new ConfigError('REDIS_URL: a cluster is redis+cluster://host:port,host:port,… (no path or query)');
    return { kind: 'single', url: url({ REDIS_URL: raw }, 'REDIS_URL', raw, ['redis:', 'rediss:']) };
  }
  const [, scheme, auth, hosts] = cluster;
  const nodes = hosts.split(',').map((part) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(part.trim());
    const port = Number(m?.[3] ?? 6379);
    if (!m || port < 1 || port > 65535) throw new ConfigError(`REDIS_URL: "${part}" is not a host:port of a cluster node`);
    return { host: m[1] ?? m[2], port };
  });
  const [user, ...password] = (auth ?? '').split(':');
  return {
    kind: 'cluster',
    nodes,
    username: user ? decodeURIComponent(user) : undefined,
    password: password.length ? decodeURIComponent(password.join(':')) : undefined,
    tls: scheme === 'rediss',
  };
}

const DEV_ADMIN_KEY = 'herald_dev_admin_key';
// A fixed key only for NODE_ENV=development, so local data survives restarts.
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 7);

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must use ${protocols.join(' or ')}`);
  return raw;
}

function prefix(raw: string): string {
  if (!/^[A-Za-z0-9_:-]{1,64}$/.test(raw)) throw new ConfigError('HERALD_QUEUE_PREFIX must be 1-64 characters of A-Z a-z 0-9 _ : -');
  return raw;
}

function operatorTenant(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^[A-Za-z0-9_.:@-]{1,256}$/.test(raw) || raw.startsWith('tnt_')) throw new ConfigError('HERALD_OPERATOR_TENANT must be a tenant uid: 1-256 characters of A-Z a-z 0-9 _ . : @ - not starting with tnt_');
  return raw;
}

/** Parses "0-3,6" into [0,1,2,3,6], each below `shards`. */
export function parseShardList(raw: string | undefined, shards: number): number[] {
  const all = Array.from({ length: shards }, (_, i) => i);
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'all') return all;
  const picked = new Set<number>();
  for (const part of raw.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(`HERALD_WORKER_SHARDS: "${part}" is not a shard number or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to || to >= shards) throw new ConfigError(`HERALD_WORKER_SHARDS: "${part}" is outside 0-${shards - 1}`);
    for (let i = from; i <= to; i++) picked.add(i);
  }
  return [...picked].sort((a, b) => a - b);
}

function tracingConfig(env: Env): TracingConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (env[endpoint]) url(env, endpoint, '', ['http:', 'https:']);
  return {
    enabled: !!env[endpoint] && !bool(env, 'OTEL_SDK_DISABLED', false),
    serviceName: env.OTEL_SERVICE_NAME || 'herald',
  };
}

/** A CSP frame-ancestors source list: 'none', 'self', or http(s) origins (a leading *. allowed), space-separated. */
export function frameAncestors(raw: string | undefined): string {
  // Quotes are optional, as shells and .env files tend to eat them.
  const sources = ((raw ?? '').trim() || 'none').split(/\s+/).map((s) => (/^'?(none|self)'?$/.test(s) ? `'${s.replace(/'/g, '')}'` : s));
  const value = sources.join(' ');
  const ok = (s: string) => s === "'self'" || /^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s);
  if (value !== "'none'" && !sources.every(ok)) {
    throw new ConfigError(`HERALD_CONSOLE_FRAME_ANCESTORS must be 'none', or 'self' and origins like https://app.example.com separated by spaces, got "${value}"`);
  }
  return value;
}

export function loadConfig(env: Env = process.env, version = '0.1.0'): HeraldConfig {
  const nodeEnv = env.NODE_ENV || 'production';
  const dev = nodeEnv === 'development' || nodeEnv === 'test';

  const role = (env.HERALD_ROLE || 'all') as Role;
  if (!['api', 'worker', 'all'].includes(role)) throw new ConfigError(`HERALD_ROLE must be api, worker or all, got "${role}"`);

  const adminKey = env.HERALD_ADMIN_KEY || (dev ? DEV_ADMIN_KEY : '');
  if (!adminKey) throw new ConfigError('HERALD_ADMIN_KEY is required outside development (NODE_ENV=development)');
  if (adminKey.length < 16) throw new ConfigError('HERALD_ADMIN_KEY must be at least 16 characters');

  let encryptionKey: Buffer;
  if (env.HERALD_ENCRYPTION_KEY) {
    encryptionKey = Buffer.from(env.HERALD_ENCRYPTION_KEY, 'base64');
    if (encryptionKey.length !== 32) throw new ConfigError('HERALD_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  } else if (dev) {
    encryptionKey = DEV_ENCRYPTION_KEY;
  } else {
    throw new ConfigError(`HERALD_ENCRYPTION_KEY is required outside development; make one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`);
  }

  const shards = int(env, 'HERALD_SHARDS', 8, 1, 1024);
  const level = (env.HERALD_LOG_LEVEL || 'info') as HeraldConfig['logLevel'];
  const requestTimeoutMs = int(env, 'HERALD_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000);
  const allowPrivateNetworks = env.HERALD_ALLOW_PRIVATE_NETWORKS || '';
  try {
    parseAllowList(allowPrivateNetworks);
  } catch (error) {
    throw new ConfigError(`HERALD_ALLOW_PRIVATE_NETWORKS must be comma-separated CIDRs such as 127.0.0.0/8,::1/128: ${(error as Error).message}`);
  }
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new ConfigError('HERALD_LOG_LEVEL must be debug, info, warn or error');

  return {
    nodeEnv,
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    metricsPort: int(env, 'HERALD_METRICS_PORT', 9464, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/herald', ['postgres:', 'postgresql:']),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redis: parseRedisTarget(env.REDIS_URL || 'redis://127.0.0.1:6379'),
    role,
    adminKey,
    encryptionKey,
    shards,
    workerShards: parseShardList(env.HERALD_WORKER_SHARDS, shards),
    workerConcurrency: int(env, 'HERALD_WORKER_CONCURRENCY', 2000, 1, 50000),
    workerFetchConcurrency: int(env, 'HERALD_WORKER_FETCH_CONCURRENCY', 32, 1, 1000),
    workerBulkFetchConcurrency: int(env, 'HERALD_WORKER_BULK_FETCH_CONCURRENCY', 32, 1, 1000),
    bulkThreshold: int(env, 'HERALD_BULK_THRESHOLD', 50, 1, 1_000_000),
    workerHoldMax: int(env, 'HERALD_WORKER_HOLD_MAX', 20_000, 0, 1_000_000),
    shutdownGraceMs: int(env, 'HERALD_SHUTDOWN_GRACE_MS', 65_000, 0, 3_600_000),
    allowPrivateNetworks,
    maxPayloadBytes: int(env, 'HERALD_MAX_PAYLOAD_BYTES', 262144, 1024, 64 * 1024 * 1024),
    retentionDays: int(env, 'HERALD_RETENTION_DAYS', 30, 1, 3650),
    publicUrl: env.HERALD_PUBLIC_URL ? url(env, 'HERALD_PUBLIC_URL', '', ['http:', 'https:']).replace(/\/+$/, '') : undefined,
    migrate: bool(env, 'HERALD_MIGRATE', true),
    sweepIntervalMs: int(env, 'HERALD_SWEEP_INTERVAL_MS', 5000, 100, 3600000),
    sweepGraceMs: int(env, 'HERALD_SWEEP_GRACE_MS', 15000, 0, 3600000),
    defaultRetryPolicy: { maxAttempts: 8, initialDelayMs: 5000, maxDelayMs: 10 * 3600 * 1000, multiplier: 5 },
    publishBatchMax: int(env, 'HERALD_PUBLISH_BATCH_MAX', 500, 1, 5000),
    publishQueueLimit: int(env, 'HERALD_PUBLISH_QUEUE_LIMIT', 10_000, 1, 1_000_000),
    queuePrefix: prefix(env.HERALD_QUEUE_PREFIX || 'herald'),
    circuitThreshold: int(env, 'HERALD_CIRCUIT_THRESHOLD', 10, 1, 1_000_000),
    circuitCooldownMs: int(env, 'HERALD_CIRCUIT_COOLDOWN_MS', 60_000, 100, 3_600_000),
    disableAfterMs: int(env, 'HERALD_DISABLE_AFTER_MS', 5 * 24 * 3600 * 1000, 1000, 365 * 24 * 3600 * 1000),
    logLevel: level,
    operatorTenant: operatorTenant(env.HERALD_OPERATOR_TENANT),
    replayPageSize: int(env, 'HERALD_REPLAY_PAGE_SIZE', 500, 1, 5000),
    version,
    limits: {
      requestTimeoutMs,
      headersTimeoutMs: Math.min(requestTimeoutMs, int(env, 'HERALD_HEADERS_TIMEOUT_MS', 20_000, 100, 3_600_000)),
      keepAliveTimeoutMs: int(env, 'HERALD_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
      maxBodyBytes: int(env, 'HERALD_MAX_BODY_BYTES', 65_536, 1024, 16 * 1024 * 1024),
      maxEndpointsPerTenant: int(env, 'HERALD_MAX_ENDPOINTS_PER_TENANT', 1000, 1, 1_000_000),
      maxDeliveriesPerRequest: int(env, 'HERALD_MAX_DELIVERIES_PER_REQUEST', 20_000, 1, 10_000_000),
      dbConnectTimeoutMs: int(env, 'HERALD_DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      dbStatementTimeoutMs: int(env, 'HERALD_DB_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    },
    metricsTopEndpoints: int(env, 'HERALD_METRICS_TOP_ENDPOINTS', 20, 0, 1000),
    metricsTopTenants: int(env, 'HERALD_METRICS_TOP_TENANTS', 100, 0, 10000),
    tracing: tracingConfig(env),
    consoleFrameAncestors: frameAncestors(env.HERALD_CONSOLE_FRAME_ANCESTORS),
    validateEvents: bool(env, 'HERALD_VALIDATE_EVENTS', false),
  };
}

/**
 * For tools that need only the database settings (npm run migrate, the TypeORM CLI, the migration
 * check): they never use the keys, so placeholders stand in when those are unset.
 */
export function loadToolConfig(env: Env = process.env, version?: string): HeraldConfig {
  const placeholders = { HERALD_ADMIN_KEY: 'unused-by-database-tools', HERALD_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') };
  return loadConfig({ ...placeholders, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v)) }, version);
}

/** For docs and tests only: a random key in the accepted format. */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}
