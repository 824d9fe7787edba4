import { Cluster } from 'ioredis';
import { parseRedisTarget } from '../../src/config/config';
import { deliveryQueueName } from '../../src/queues/delivery-queues';
import { InFlightLimiter } from '../../src/rate-limit/in-flight';
import { PublishAdmission } from '../../src/rate-limit/publish-admission';
import { EndpointRateLimiter } from '../../src/rate-limit/rate-limiter';
import { keySlot } from '../../src/redis/key-slot';
import { connectRedis } from '../../src/redis/redis-connection';
import { shardPlacement } from '../../src/redis/shard-placement';
import { RedisClusterServer } from '../support/cluster';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/**
 * Every Lua script Herald runs (Bull's, the limiters', whatever the worker defines) on a real Redis
 * Cluster. Redis 7 itself refuses a script whose declared keys span slots (CROSSSLOT) or that touches a
 * key of another slot; on top of that every call's keys are checked here to share one slot. The scripts
 * are found by recording each `defineCommand` on a Cluster connection, so a script added later is
 * covered without editing this list, and the test fails if one of Herald's own scripts never ran.
 */

interface ScriptCall {
  name: string;
  slots: Set<number>;
  ok: number;
  /** Queued in a MULTI/pipeline (Bull's addBulk): keys checked here, the reply comes with exec. */
  pipelined: number;
  errors: string[];
}

const calls = new Map<string, ScriptCall>();
const defined = new Set<string>();

function flatten(args: unknown[]): unknown[] {
  return args.flatMap((a) => (Array.isArray(a) ? flatten(a) : [a])).filter((a) => typeof a !== 'function');
}

// Instrumentation, not a stand-in: the real command still runs on the real cluster.
const defineCommand = Cluster.prototype.defineCommand;
Cluster.prototype.defineCommand = function (this: Cluster & Record<string, any>, name: string, definition: { lua: string; numberOfKeys?: number }) {
  defineCommand.call(this, name, definition);
  defined.add(name);
  const run = this[name] as (...args: unknown[]) => Promise<unknown>;
  this[name] = function (this: unknown, ...args: unknown[]) {
    const flat = flatten(args);
    const keyCount = definition.numberOfKeys ?? Number(flat[0]);
    const keys = (definition.numberOfKeys === undefined ? flat.slice(1, 1 + keyCount) : flat.slice(0, keyCount)) as (string | Buffer)[];
    const call = calls.get(name) ?? { name, slots: new Set<number>(), ok: 0, pipelined: 0, errors: [] };
    calls.set(name, call);
    const slots = new Set(keys.map((k) => keySlot(k)));
    slots.forEach((s) => call.slots.add(s));
    if (slots.size > 1) call.errors.push(`keys in ${slots.size} slots: ${keys.join(' ')}`);
    const result = run.apply(this, args);
    // A pipeline copies the connection's script functions and calls them with itself as `this`.
    if (!(this instanceof Cluster)) {
      call.pipelined++;
      return result;
    }
    result.then(
      () => call.ok++,
      (error: Error) => call.errors.push(error.message),
    );
    return result;
  };
};

describe('Redis Cluster: every script in one slot, shards spread over the masters', () => {
  let cluster: RedisClusterServer;
  let herald: Herald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    cluster = await RedisClusterServer.start();
    receiver = await TestReceiver.start();
    herald = await startHerald({ REDIS_URL: cluster.url, HERALD_SHARDS: '8' });
  });
  afterAll(async () => {
    await herald?.close();
    await receiver?.close();
    await cluster?.destroy();
  });

  it("shows each shard's slot and the master holding it, and the shards spread over every master", async () => {
    const connection = connectRedis(parseRedisTarget(cluster.url), 'client');
    try {
      const placement = await shardPlacement(connection, Array.from({ length: 8 }, (_, i) => deliveryQueueName(i)));
      console.log(`shard placement (${cluster.url}):\n${placement.map((p, i) => `  shard ${i}  ${p.queue}  slot ${p.slot}  on ${p.node}`).join('\n')}`);
      for (const p of placement) expect(p.node).toBe(`127.0.0.1:${(await cluster.masterOf(p.slot)).port}`);
      // Each shard's bulk lane lives with its live lane: same slot, same master.
      const bulk = await shardPlacement(connection, Array.from({ length: 8 }, (_, i) => deliveryQueueName(i, 'bulk')));
      expect(bulk.map((p) => [p.slot, p.node])).toEqual(placement.map((p) => [p.slot, p.node]));
      const masters = (await cluster.nodes()).filter((n) => n.role === 'master');
      expect(new Set(placement.map((p) => p.node)).size).toBe(masters.length);
    } finally {
      connection.disconnect();
    }
  });

  it("runs Herald's and Bull's scripts on the cluster with every call's keys in one slot", async () => {
    const api = herald.api;
    const tenant = await api.post('/v1/tenants', { name: 'cluster', publishRateLimitPerSecond: 1000 });
    expect(tenant.status).toBe(201);
    const t = tenant.body.id as string;
    receiver.replyWith([{ status: 500 }, { status: 500 }]);
    const endpoints = [];
    for (const body of [{ rateLimitPerSecond: 50 }, { maxInFlight: 2 }, { retryPolicy: { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 500 } }, {}]) {
      const res = await api.post(`/v1/tenants/${t}/endpoints`, { url: `${receiver.url}/hook`, ...body });
      expect(res.status).toBe(201);
      endpoints.push(res.body.id as string);
    }
    const published = await api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 40 }, (_, n) => ({ eventType: 'order.paid', payload: { n } })) });
    expect(published.status).toBe(202);
    await waitFor('every delivery to succeed', async () => {
      const [{ n }] = await herald.sql(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [t]);
      return n === 160;
    }, 60_000, 100).catch(async (error: Error) => {
      const rows = await herald.sql(`SELECT endpoint_id, status, attempt_count, last_error, count(*)::int AS n FROM deliveries WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4`, [t]);
      throw new Error(`${error.message}: ${JSON.stringify(rows)}`);
    });
    for (const id of endpoints) expect((await api.get(`/v1/tenants/${t}/endpoints/${id}/stats`)).status).toBe(200);

    // The limiters' every operation, straight on a cluster connection: covers scripts the app calls rarely.
    const connection = connectRedis(parseRedisTarget(cluster.url), 'client');
    try {
      const slots = new EndpointRateLimiter(connection, 'cluster-test:rl:');
      await slots.reserveSlot('ep_a', 10);
      await slots.reserveSlots('ep_a', 10, 3);
      await slots.backlog('ep_a', 10);
      const leases = new InFlightLimiter(connection, 'cluster-test:if:');
      expect(await leases.acquire('ep_a', 1, 1000, 'job-1')).toEqual({ ok: true });
      expect(await leases.count('ep_a')).toBe(1);
      expect(await leases.release('ep_a', 'job-1')).toBe(true);
      expect(await new PublishAdmission(connection, 'cluster-test:pub:').admit('tnt_a', 10, 2)).toEqual({ admitted: true });
    } finally {
      connection.disconnect();
    }

    const rows = [...calls.values()].sort((a, b) => a.name.localeCompare(b.name));
    console.log(`scripts run on the cluster:\n${rows.map((c) => `  ${c.name.padEnd(28)} calls ${String(c.ok).padStart(5)}  in pipelines ${String(c.pipelined).padStart(4)}  slots seen ${c.slots.size}  errors ${c.errors.length}`).join('\n')}`);
    const ownScripts = [...defined].filter((name) => name.startsWith('herald'));
    expect(ownScripts.length).toBeGreaterThanOrEqual(6);
    for (const name of ownScripts) expect({ name, ran: (calls.get(name)?.ok ?? 0) > 0 }).toEqual({ name, ran: true });
    for (const call of rows) expect({ name: call.name, errors: call.errors.filter((e) => /slot|CROSSSLOT|non local key/i.test(e)) }).toEqual({ name: call.name, errors: [] });
    expect(rows.filter((c) => !c.name.startsWith('herald')).length).toBeGreaterThan(3);
  });
});
