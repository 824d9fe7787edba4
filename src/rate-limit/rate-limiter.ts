import type { Cluster, Redis } from 'ioredis';
import { gcraParams, slotRate } from './gcra';

// Both scripts read the clock with TIME so that workers with skewed clocks agree on one timeline
// (Redis 7 replicates a script's effects, so a script that read TIME may still write).
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
`;

// KEYS[1] = TAT (ms, server clock); ARGV = emission interval T, tolerance τ. Returns the delay.
// Mirrors `reserve` in gcra.ts.
const RESERVE_SLOT = `${NOW_MS}
local emission, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local slot = math.max(now, tat - tolerance)
local newTat = tat + emission
-- once the TAT is in the past the key carries no information, so it may expire then
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now))
return math.ceil(slot - now)
`;

// KEYS[1] = TAT; ARGV = T, τ, n. Reserves n consecutive slots at once (a burst of deliveries published
// together) and returns the delay of the first; the others follow at T intervals.
const RESERVE_SLOTS = `${NOW_MS}
local emission, tolerance, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local slot = math.max(now, tat - tolerance)
local newTat = tat + n * emission
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now))
return tostring(slot - now)
`;

// KEYS[1] = TAT; ARGV[1] = τ. The delay a reservation made now would get, without making one.
const SLOT_BACKLOG = `${NOW_MS}
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
return math.max(0, math.ceil(tat - tonumber(ARGV[1]) - now))
`;

type SlotCommands = {
  heraldReserveSlot(key: string, emissionMs: number, toleranceMs: number): Promise<number>;
  heraldSlotBacklog(key: string, toleranceMs: number): Promise<number>;
  heraldReserveSlots(key: string, emissionMs: number, toleranceMs: number, n: number): Promise<string>;
};

/**
 * Per-endpoint send slots shared by every worker process; all state lives in Redis and each
 * operation is one EVALSHA (ioredis loads the script once per connection).
 */
export class EndpointRateLimiter {
  private readonly redis: (Redis | Cluster) & SlotCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly keyPrefix = 'herald:rl:',
  ) {
    redis.defineCommand('heraldReserveSlot', { numberOfKeys: 1, lua: RESERVE_SLOT });
    redis.defineCommand('heraldSlotBacklog', { numberOfKeys: 1, lua: SLOT_BACKLOG });
    redis.defineCommand('heraldReserveSlots', { numberOfKeys: 1, lua: RESERVE_SLOTS });
    this.redis = redis as (Redis | Cluster) & SlotCommands;
  }

  /**
   * Reserves this caller's send slot and returns the ms to wait for it (0 = send now). The slot
   * is taken even when the caller waits: re-schedule once for `delay` and then send without
   * reserving again, or the endpoint pays for the same request twice.
   */
  async reserveSlot(endpointId: string, ratePerSecond: number): Promise<number> {
    const { emissionMs, toleranceMs } = gcraParams(ratePerSecond);
    return this.redis.heraldReserveSlot(this.key(endpointId), emissionMs, toleranceMs);
  }

  /**
   * Reserves `n` consecutive slots in one call and returns the wait (ms, rounded up) for each, in order.
   * Used at publish time, so that a burst for a throttled endpoint goes straight to the delayed set at
   * its slots instead of queueing in front of other endpoints' jobs.
   */
  async reserveSlots(endpointId: string, ratePerSecond: number, n: number): Promise<number[]> {
    const { emissionMs, toleranceMs } = gcraParams(ratePerSecond);
    const first = Number(await this.redis.heraldReserveSlots(this.key(endpointId), emissionMs, toleranceMs, n));
    return Array.from({ length: n }, (_, i) => Math.ceil(first + i * emissionMs));
  }

  reserveEndpointSlots(endpointId: string, limitPerSecond: number, n: number): Promise<number[]> {
    return this.reserveSlots(endpointId, slotRate(limitPerSecond), n);
  }

  /** How far ahead (ms) reservations extend: the wait a new reservation would get now. */
  async backlog(endpointId: string, ratePerSecond: number): Promise<number> {
    return this.redis.heraldSlotBacklog(this.key(endpointId), gcraParams(ratePerSecond).toleranceMs);
  }

  /** For an endpoint's configured limit: slots at `slotRate(limit)`, with headroom for jitter. */
  reserveEndpointSlot(endpointId: string, limitPerSecond: number): Promise<number> {
    return this.reserveSlot(endpointId, slotRate(limitPerSecond));
  }

  endpointBacklog(endpointId: string, limitPerSecond: number): Promise<number> {
    return this.backlog(endpointId, slotRate(limitPerSecond));
  }

  // The hash tag keeps all of one endpoint's keys in one Redis Cluster slot.
  private key(endpointId: string): string {
    return `${this.keyPrefix}{${endpointId}}`;
  }
}
