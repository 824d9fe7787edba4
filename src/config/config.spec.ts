import { ConfigError, loadConfig, parseShardList } from './config';

const base = { NODE_ENV: 'production', HERALD_ADMIN_KEY: 'a'.repeat(20), HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      port: 3000,
      role: 'all',
      shards: 8,
      workerShards: [0, 1, 2, 3, 4, 5, 6, 7],
      workerConcurrency: 2000,
      workerFetchConcurrency: 32,
      workerBulkFetchConcurrency: 32,
      maxPayloadBytes: 262144,
      retentionDays: 30,
      migrate: true,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/herald',
      redisUrl: 'redis://127.0.0.1:6379',
    });
    expect(c.defaultRetryPolicy).toEqual({ maxAttempts: 8, initialDelayMs: 5000, maxDelayMs: 36_000_000, multiplier: 5 });
  });

  it('refuses to start without keys outside development, and names the setting', () => {
    expect(() => loadConfig({ ...base, HERALD_ADMIN_KEY: '' })).toThrow(/HERALD_ADMIN_KEY/);
    expect(() => loadConfig({ ...base, HERALD_ENCRYPTION_KEY: '' })).toThrow(/HERALD_ENCRYPTION_KEY/);
    expect(() => loadConfig({ ...base, HERALD_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(loadConfig({ NODE_ENV: 'development' }).adminKey).toBe('herald_dev_admin_key');
  });

  it('names each bad value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'http' }, /PORT must be an integer/],
      [{ HERALD_SHARDS: '0' }, /HERALD_SHARDS must be between/],
      [{ HERALD_ROLE: 'both' }, /HERALD_ROLE/],
      [{ HERALD_MIGRATE: 'maybe' }, /HERALD_MIGRATE/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
      [{ REDIS_URL: '::' }, /REDIS_URL/],
      [{ HERALD_WORKER_SHARDS: '9' }, /HERALD_WORKER_SHARDS/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    }
  });
});

describe('parseShardList', () => {
  it('reads ranges and lists', () => {
    expect(parseShardList('0-3', 8)).toEqual([0, 1, 2, 3]);
    expect(parseShardList('5, 1-2, 2', 8)).toEqual([1, 2, 5]);
    expect(parseShardList('', 3)).toEqual([0, 1, 2]);
    expect(parseShardList('all', 2)).toEqual([0, 1]);
    expect(() => parseShardList('3-1', 8)).toThrow(/outside/);
    expect(() => parseShardList('x', 8)).toThrow(/not a shard/);
  });

  it('names HERALD_ALLOW_PRIVATE_NETWORKS when it is not a list of CIDRs', () => {
    expect(() => loadConfig({ ...base, HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,localhost' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HERALD_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/33' })).toThrow(/HERALD_ALLOW_PRIVATE_NETWORKS/);
    expect(loadConfig({ ...base, HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8, ::1/128' }).allowPrivateNetworks).toBe('127.0.0.0/8, ::1/128');
  });

  it('has limits and timeouts by default, each a setting', () => {
    expect(loadConfig(base).limits).toEqual({
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 20_000,
      keepAliveTimeoutMs: 72_000,
      maxBodyBytes: 65_536,
      maxEndpointsPerTenant: 1000,
      maxDeliveriesPerRequest: 20_000,
      dbConnectTimeoutMs: 5000,
      dbStatementTimeoutMs: 30_000,
    });
    expect(loadConfig({ ...base, HERALD_REQUEST_TIMEOUT_MS: '5000' }).limits.headersTimeoutMs).toBe(5000);
    expect(() => loadConfig({ ...base, HERALD_MAX_ENDPOINTS_PER_TENANT: '0' })).toThrow(/HERALD_MAX_ENDPOINTS_PER_TENANT/);
  });
});
