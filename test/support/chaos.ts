import { Client } from 'pg';
import { ADMIN_KEY, ApiClient, HeraldEnv, crashed, running } from './herald';
import { Received, TestReceiver } from './receiver';
import { PostgresServer, RedisServer } from './servers';
import { sleep, waitFor } from './wait';

/**
 * The chaos harness: a Herald installation on servers of its own, a burst of events published while
 * something breaks, and the ledger that proves afterwards that nothing answered 202 was lost.
 */

export interface ChaosWorld {
  pg: PostgresServer;
  redis: RedisServer;
  env: HeraldEnv;
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Own PostgreSQL and Redis, a migrated database, and the settings for Herald processes that use them. */
export async function startWorld(overrides: HeraldEnv = {}): Promise<ChaosWorld> {
  const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
  const databaseUrl = await pg.createDatabase('herald');
  const env: HeraldEnv = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    HERALD_ADMIN_KEY: ADMIN_KEY,
    HERALD_QUEUE_PREFIX: 'chaos',
    HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
    HERALD_SWEEP_INTERVAL_MS: '500',
    HERALD_SWEEP_GRACE_MS: '2000',
    HERALD_SHARDS: '4',
    HERALD_MIGRATE: 'false',
    HERALD_LOG_LEVEL: 'warn',
    ...overrides,
  };
  let client: Client | undefined;
  const connect = async () => {
    if (client) return client;
    const c = new Client({ connectionString: databaseUrl });
    c.on('error', () => (client = undefined));
    await c.connect();
    return (client = c);
  };
  return {
    pg,
    redis,
    env,
    async sql(text, params) {
      // Reconnects after a PostgreSQL restart.
      for (let tries = 0; ; tries++) {
        try {
          return (await (await connect()).query(text, params as unknown[])).rows;
        } catch (error) {
          client?.end().catch(() => undefined);
          client = undefined;
          if (tries >= 20) throw error;
          await sleep(250);
        }
      }
    },
    async close() {
      await client?.end().catch(() => undefined);
      await Promise.all([pg.destroy(), redis.destroy()]);
    },
  };
}

export interface Subscriber {
  /** What reached the endpoint and was answered 2xx (TestReceiver answers 2xx unless told otherwise). */
  receiver: { received: Pick<Received, 'headers' | 'at'>[] };
  endpointId: string;
  /** Which published event types this endpoint should receive. */
  matches: (eventType: string) => boolean;
}

/**
 * A tenant with two subscribed endpoints on two receivers (one takes everything, one a prefix) and one
 * endpoint that matches nothing published, so that fan-out and filtering are both checked.
 */
export async function subscribe(
  api: ApiClient,
  endpointBody: Record<string, unknown> = {},
): Promise<{ tenantId: string; subscribers: (Subscriber & { receiver: TestReceiver })[]; close: () => Promise<void> }> {
  const tenant = await api.post('/v1/tenants', { name: 'chaos' });
  if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  const tenantId = tenant.body.id as string;
  const [all, prefixed, never] = await Promise.all([TestReceiver.start(), TestReceiver.start(), TestReceiver.start()]);
  const create = async (receiver: TestReceiver, eventTypes: string[]) => {
    const res = await api.post(`/v1/tenants/${tenantId}/endpoints`, { url: `${receiver.url}/hook`, eventTypes, ...endpointBody });
    if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  const subscribers = [
    { receiver: all, endpointId: await create(all, []), matches: () => true },
    { receiver: prefixed, endpointId: await create(prefixed, ['order.*']), matches: (t: string) => t.startsWith('order.') },
    { receiver: never, endpointId: await create(never, ['never.published']), matches: () => false },
  ];
  return { tenantId, subscribers, close: () => Promise.all([all.close(), prefixed.close(), never.close()]).then(() => undefined) };
}

export interface BurstResult {
  /** Event id → type, for every event answered 202. */
  accepted: Map<string, string>;
  /** Answers other than 202, by status (0: no answer: connection refused or cut). */
  refused: Map<number, number>;
  attempted: number;
  ms: number;
}

const TYPES = ['order.created', 'order.paid', 'invoice.sent'];

/**
 * Publishes at least `total` events as fast as `concurrency` requests allow, half through the batch
 * route (25 a request) and half one by one. Failed requests are counted, not retried: an event that got
 * no 202 was never promised. `baseUrl` is read before each request, so the API may move (restart).
 */
export function burst(options: BurstOptions): Promise<BurstResult> {
  return startBurst(options).done;
}

export interface BurstOptions {
  baseUrl: () => string;
  tenantId: string;
  total: number;
  concurrency?: number;
  maxMs?: number;
  /** A pause after each answered request in each lane, to spread the burst over a fault that lasts. */
  paceMs?: number;
}

/** `live` fills up while the burst runs, for tests that look at what was answered during a fault. */
export function startBurst(options: BurstOptions): { live: BurstResult; done: Promise<BurstResult> } {
  const live: BurstResult = { accepted: new Map(), refused: new Map(), attempted: 0, ms: 0 };
  return { live, done: runBurst(options, live) };
}

async function runBurst(options: BurstOptions, result: BurstResult): Promise<BurstResult> {
  const { tenantId, total } = options;
  const started = Date.now();
  let sequence = 0;
  const refuse = (status: number, n: number) => result.refused.set(status, (result.refused.get(status) ?? 0) + n);
  const lane = async (lane: number) => {
    while (result.accepted.size < total && Date.now() - started < (options.maxMs ?? 120_000)) {
      const batch = lane % 2 === 0;
      const events = Array.from({ length: batch ? 25 : 1 }, () => {
        const n = sequence++;
        return { eventType: TYPES[n % TYPES.length], payload: { n, marker: `chaos-${n}` } };
      });
      result.attempted += events.length;
      const path = `/v1/tenants/${tenantId}/events${batch ? '/batch' : ''}`;
      try {
        const res = await fetch(options.baseUrl() + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch ? { events } : events[0]),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json().catch(() => null)) as { data?: { id: string; eventType: string }[] } & { id: string; eventType: string };
        if (res.status === 202) {
          const data = batch ? (body.data ?? []) : [body];
          for (const e of data) result.accepted.set(e.id, e.eventType);
          if (options.paceMs) await sleep(options.paceMs);
        } else {
          refuse(res.status, events.length);
          await sleep(50);
        }
      } catch {
        refuse(0, events.length);
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, (_, i) => lane(i)));
  result.ms = Date.now() - started;
  return result;
}

/** Waits until no delivery is pending and the receivers have been silent for a moment. */
export async function waitQuiet(world: Pick<ChaosWorld, 'sql'> & Partial<Pick<ChaosWorld, 'redis' | 'env'>>, subscribers: Subscriber[], timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  let lastCount = -1;
  let lastChange = Date.now();
  const quiet = await waitFor(
    'all deliveries to finish',
    async () => {
      // A Herald process that died cannot finish them: say so now, not when the wait runs out.
      if (crashed().length) return 'crashed';
      const [{ pending }] = await world.sql(`SELECT count(*)::int AS pending FROM deliveries WHERE status = 'pending'`);
      const count = subscribers.reduce((n, s) => n + s.receiver.received.length, 0);
      if (count !== lastCount) {
        lastCount = count;
        lastChange = Date.now();
      }
      return pending === 0 && Date.now() - lastChange > 1000;
    },
    timeoutMs,
    250,
  ).catch(async (error: Error) => {
    const pending = await world.sql(`SELECT endpoint_id, attempt_count, count(*)::int AS n, min(next_attempt_at) AS next FROM deliveries WHERE status = 'pending' GROUP BY 1, 2`);
    throw new Error(`${error.message}; pending: ${JSON.stringify(pending)}\n${await whereStuck(world).catch((e: Error) => `(no report: ${e.message})`)}`);
  });
  if (quiet === 'crashed') throw new Error(`waiting for all deliveries to finish: ${crashed().join('\n')}`);
  return Date.now() - started;
}

/**
 * What a failed wait needs to be understood: a few of the deliveries still pending, where Redis holds each one's
 * jobs (which queue, which list), and what every running Herald process says of its budget and held jobs.
 */
async function whereStuck(world: Pick<ChaosWorld, 'sql'> & Partial<Pick<ChaosWorld, 'redis' | 'env'>>): Promise<string> {
  const lines: string[] = [];
  const rows: { id: string; attempt_count: number; next_attempt_at: Date; claimed_until: Date | null; updated_at: Date }[] = await world.sql(
    `SELECT id, attempt_count, next_attempt_at, claimed_until, updated_at FROM deliveries WHERE status = 'pending' ORDER BY next_attempt_at LIMIT 3`,
  );
  for (const row of rows) {
    lines.push(`delivery ${row.id}: attempts ${row.attempt_count}, next ${row.next_attempt_at?.toISOString()}, claimed until ${row.claimed_until?.toISOString() ?? '-'}, updated ${row.updated_at.toISOString()}`);
    if (!world.redis) continue;
    const keys = (await world.redis.cli('--scan', '--pattern', `*${row.id}*`)).split('\n').filter(Boolean);
    for (const key of keys) {
      const queue = key.slice(0, key.lastIndexOf(':', key.indexOf(row.id)));
      const jobId = key.slice(queue.length + 1);
      const where: string[] = [];
      for (const list of ['wait', 'active', 'paused']) if ((await world.redis.cli('LPOS', `${queue}:${list}`, jobId)) !== '') where.push(list);
      for (const set of ['delayed', 'completed', 'failed']) if ((await world.redis.cli('ZSCORE', `${queue}:${set}`, jobId)) !== '') where.push(set);
      const lock = await world.redis.cli('EXISTS', `${queue}:${jobId}:lock`);
      lines.push(`  ${key} (${await world.redis.cli('TYPE', key)}): in ${where.join(', ') || 'no list'}; lock ${lock}; ${(await world.redis.cli('HMGET', key, 'data', 'processedOn', 'failedReason', 'attemptsMade')).replace(/\n/g, ' | ')}`);
    }
  }
  for (const herald of running()) {
    const metrics = await fetch(`${herald.url}/metrics`).then((r) => r.text()).catch((e: Error) => e.message);
    const figures = metrics.split('\n').filter((l) => /^herald_(worker_|attempts_in_flight|group_commit)/.test(l)).join('; ');
    lines.push(`herald ${herald.role}: ${figures}`, `  its output ends: ${herald.output().slice(-1500)}`);
  }
  return lines.join('\n');
}

export interface Ledger {
  published: number;
  delivered: number;
  lost: number;
  duplicates: number;
  line: string;
}

/**
 * The proof: every event answered 202 is stored with one delivery per matching endpoint, every delivery
 * succeeded, and every matching receiver got every such event (by webhook-id) at least once.
 */
export async function ledger(name: string, world: Pick<ChaosWorld, 'sql'>, tenantId: string, subscribers: Subscriber[], accepted: Map<string, string>): Promise<Ledger> {
  const events: { id: string; event_type: string; deliveries: number }[] = await world.sql(
    `SELECT e.id, e.event_type, (SELECT count(*)::int FROM deliveries d WHERE d.event_id = e.id) AS deliveries FROM events e WHERE e.tenant_id = $1`,
    [tenantId],
  );
  const stored = new Map(events.map((e) => [e.id, e]));
  const matching = (type: string) => subscribers.filter((s) => s.matches(type)).length;
  // No half-written event, whether or not its producer got the answer.
  const halfWritten = events.filter((e) => e.deliveries !== matching(e.event_type));
  const notStored = [...accepted.keys()].filter((id) => !stored.has(id));
  const statuses: { status: string; n: number }[] = await world.sql(`SELECT status, count(*)::int AS n FROM deliveries WHERE tenant_id = $1 GROUP BY status`, [tenantId]);

  const received = subscribers.map((s) => {
    const got = new Map<string, number>();
    for (const r of s.receiver.received) {
      const id = String(r.headers['webhook-id']);
      got.set(id, (got.get(id) ?? 0) + 1);
    }
    for (const [id] of got) if (!accepted.has(id) && !stored.has(id)) throw new Error(`${s.endpointId} received unknown event ${id}`);
    return got;
  });
  // An event is delivered when every matching endpoint got it at least once; extra copies are duplicates.
  // Events stored but whose 202 never reached the producer (a killed API) are delivered too, uncounted here.
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  let expected = 0;
  for (const [id, type] of accepted) {
    let complete = true;
    subscribers.forEach((s, i) => {
      if (!s.matches(type)) {
        if (received[i].has(id)) throw new Error(`${s.endpointId} received ${id} of type ${type}, which it does not subscribe to`);
        return;
      }
      expected++;
      const n = received[i].get(id) ?? 0;
      if (n === 0) complete = false;
      else duplicates += n - 1;
    });
    if (complete) delivered++;
    else lost++;
  }
  const line = `${name}: published ${accepted.size}, delivered ${delivered}, lost ${lost}, duplicates ${duplicates} (deliveries per endpoint expected ${expected}; by status ${statuses.map((s) => `${s.status}=${s.n}`).join(' ')})`;
  console.log(line);
  if (halfWritten.length) throw new Error(`${halfWritten.length} events without all their delivery rows, e.g. ${JSON.stringify(halfWritten[0])}`);
  if (notStored.length) throw new Error(`${notStored.length} events answered 202 but not stored, e.g. ${notStored[0]}`);
  return { published: accepted.size, delivered, lost, duplicates, line };
}

export function describeRefused(refused: Map<number, number>): string {
  return [...refused].map(([status, n]) => `${status || 'no answer'}: ${n}`).join(', ') || 'none';
}
