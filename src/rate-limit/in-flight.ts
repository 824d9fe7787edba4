import type { Cluster, Redis } from 'ioredis';

/**
 * A refused caller retries after the earliest lease expires, but no later than this: leases are
 * only a safety net for killed workers, and a normal release comes much sooner.
 */
export const MAX_RETRY_MS = 1000;

const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

// KEYS[1] = sorted set of lease tokens scored by expiry (ms, server clock);
// ARGV = max, leaseMs, token, maxRetryMs. Returns 0 when admitted, else the ms to wait.
const ACQUIRE_LEASE = `${NOW_MS}
-- leases of workers that died without releasing free themselves here
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local max, leaseMs, token, maxRetry = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
-- a token that already holds a lease renews it, so acquire is safe to repeat
if redis.call('ZSCORE', KEYS[1], token) or redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now + leaseMs, token)
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[1], last[2])
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.min(tonumber(first[2]) - now, maxRetry))
`;

// KEYS[1] = lease set. Counts live leases only; expired ones may still sit in the set.
const COUNT_LEASES = `${NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

type LeaseCommands = {
  heraldAcquireLease(key: string, max: number, leaseMs: number, token: string, maxRetryMs: number): Promise<number>;
  heraldCountLeases(key: string): Promise<number>;
};

export type LeaseResult = { ok: true } | { ok: false; retryInMs: number };

/**
 * Caps concurrent requests per endpoint across all worker processes. A lease is held by a token
 * (e.g. the job id) until released or until `leaseMs` passes, so a killed worker's slot frees
 * itself; `leaseMs` must outlast the request timeout.
 */
export class InFlightLimiter {
  private readonly redis: (Redis | Cluster) & LeaseCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly keyPrefix = 'herald:if:',
  ) {
    redis.defineCommand('heraldAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE });
    redis.defineCommand('heraldCountLeases', { numberOfKeys: 1, lua: COUNT_LEASES });
    this.redis = redis as (Redis | Cluster) & LeaseCommands;
  }

  async acquire(endpointId: string, max: number, leaseMs: number, token: string): Promise<LeaseResult> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`leaseMs must be positive, got ${leaseMs}`);
    const retryInMs = await this.redis.heraldAcquireLease(this.key(endpointId), max, Math.ceil(leaseMs), token, MAX_RETRY_MS);
    return retryInMs === 0 ? { ok: true } : { ok: false, retryInMs };
  }

  /** Returns whether the token held a lease. A single ZREM is atomic, so no script is needed. */
  async release(endpointId: string, token: string): Promise<boolean> {
    return (await this.redis.zrem(this.key(endpointId), token)) > 0;
  }

  async count(endpointId: string): Promise<number> {
    return this.redis.heraldCountLeases(this.key(endpointId));
  }

  // The hash tag keeps all of one endpoint's keys in one Redis Cluster slot.
  private key(endpointId: string): string {
    return `${this.keyPrefix}{${endpointId}}`;
  }
}
