import type { Cluster, Redis } from 'ioredis';

// KEYS[1] = TAT (ms, server clock); ARGV = emission interval T, capacity (burst · T), cells.
// Returns 0 when admitted, -1 when the request can never fit, else the ms to wait. Mirrors `admit` in gcra.ts.
const ADMIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local emission, capacity, cells = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if cells * emission > capacity + 1e-9 then return -1 end
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local newTat = tat + cells * emission
local over = newTat - now - capacity
if over > 1e-9 then return math.ceil(over) end
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now))
return 0
`;

type AdmitCommands = {
  heraldAdmit(key: string, emissionMs: number, capacityMs: number, cells: number): Promise<number>;
};

export type AdmissionResult = { admitted: true } | { admitted: false; retryInMs: number };

/**
 * Admission control for producers: at most `ratePerSecond` requests per second per key, with a
 * burst of one second's worth. Several cells (a batch) are admitted together or refused together.
 * One EVALSHA per call; the state is one key per subject that expires when it carries nothing.
 */
export class PublishAdmission {
  private readonly redis: (Redis | Cluster) & AdmitCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly keyPrefix = 'herald:pub:',
  ) {
    redis.defineCommand('heraldAdmit', { numberOfKeys: 1, lua: ADMIT });
    this.redis = redis as (Redis | Cluster) & AdmitCommands;
  }

  async admit(subject: string, ratePerSecond: number, cells: number): Promise<AdmissionResult> {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, got ${cells}`);
    const emissionMs = 1000 / ratePerSecond;
    const wait = await this.redis.heraldAdmit(`${this.keyPrefix}{${subject}}`, emissionMs, 1000, cells);
    if (wait === 0) return { admitted: true };
    return { admitted: false, retryInMs: wait < 0 ? Infinity : wait };
  }
}
