import { ConfigError, loadConfig, parseRedisTarget } from '../config/config';
import { clusterOptions } from './redis-connection';

describe('REDIS_URL', () => {
  it('names one server by default', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).redis).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisTarget('rediss://:pw@cache.example.com:6380/2')).toEqual({ kind: 'single', url: 'rediss://:pw@cache.example.com:6380/2' });
  });

  it('names a cluster by any of its nodes', () => {
    expect(parseRedisTarget('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-c.internal')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-c.internal', port: 6379 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
  });

  it('reads credentials, TLS and IPv6 nodes', () => {
    expect(parseRedisTarget('rediss+cluster://herald:s%40cret:x@[::1]:7000,[fd00::2]:7001/')).toMatchObject({
      kind: 'cluster',
      nodes: [
        { host: '::1', port: 7000 },
        { host: 'fd00::2', port: 7001 },
      ],
      username: 'herald',
      password: 's@cret:x',
      tls: true,
    });
  });

  it.each(['redis+cluster://', 'redis+cluster://a:1,,b:2', 'redis+cluster://a:99999', 'redis+cluster://a:1/0', 'redis+cluster://a:1?x=1', 'memcached://x', '::'])(
    'refuses %p, naming REDIS_URL',
    (raw) => {
      expect(() => parseRedisTarget(raw)).toThrow(ConfigError);
      expect(() => parseRedisTarget(raw)).toThrow(/REDIS_URL/);
    },
  );
});

describe('clusterOptions', () => {
  const target = { kind: 'cluster' as const, nodes: [{ host: '127.0.0.1', port: 7000 }], tls: false };

  it("gives Bull's blocking and subscriber connections what Bull requires of them", () => {
    for (const role of ['subscriber', 'bclient'] as const) {
      const { redisOptions } = clusterOptions(target, role);
      expect(redisOptions).toMatchObject({ maxRetriesPerRequest: null, enableReadyCheck: false });
    }
  });

  it('fails commands fast on the shared client, and retries them across a failover', () => {
    const options = clusterOptions(target, 'client');
    expect(options.redisOptions?.maxRetriesPerRequest).toBe(2);
    expect(options.retryDelayOnFailover).toBeGreaterThan(0);
    expect(options.retryDelayOnClusterDown).toBeGreaterThan(0);
    expect(options.scaleReads).toBe('master');
  });
});
