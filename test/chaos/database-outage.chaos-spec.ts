import { randomBytes } from 'node:crypto';
import { createEndpoint, createTenant } from '../support/fixtures';
import { ADMIN_KEY, Herald, dropQueueKeys, startHerald } from '../support/herald';
import { PostgresServer } from '../support/servers';
import { waitFor } from '../support/wait';

const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 2000;
const REQUESTS = 24;
/**
 * Every answer must come within this: a few rounds of the configured timeouts (a group is tried twice; two
 * groups commit at once, a third waits for one) plus slack for a busy machine. Failing a commit group
 * member by member would take REQUESTS × (a timeout of at least 1 s), well above it: what this guards against.
 */
const BOUND_MS = 3 * (CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 1000) + 3000;

/** PostgreSQL unreachable: every publish answers 503 within a bounded time, all of them, and works again after. */
describe('chaos: PostgreSQL outage while publishing', () => {
  let pg: PostgresServer;
  let herald: Herald;
  let tenantId: string;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: await pg.createDatabase(),
      REDIS_URL: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
      HERALD_ADMIN_KEY: ADMIN_KEY,
      HERALD_QUEUE_PREFIX: `herald-test-${randomBytes(4).toString('hex')}`,
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
      HERALD_ROLE: 'api',
      HERALD_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      HERALD_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      HERALD_LOG_LEVEL: 'error',
    };
    herald = await startHerald({}, { env });
    tenantId = (await createTenant(herald.api)).id;
    await createEndpoint(herald.api, tenantId, { url: 'http://127.0.0.1:9/unreached' });
  });
  afterAll(async () => {
    pg?.freeze(true);
    await herald?.close();
    await pg?.destroy();
    if (herald) await dropQueueKeys(herald.env.REDIS_URL, herald.env.HERALD_QUEUE_PREFIX);
  });

  async function publishAll(): Promise<{ status: number; retryAfter: string | null; ms: number }[]> {
    return Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const started = Date.now();
        const res = await herald.api.post(`/v1/tenants/${tenantId}/events`, { eventType: 'outage.test', payload: { i } });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
      }),
    );
  }

  it('a server that stopped answering (frozen): every concurrent publish answers 503 with Retry-After, within a bound', async () => {
    pg.freeze();
    let answers;
    try {
      answers = await publishAll();
    } finally {
      pg.freeze(true);
    }
    expect(answers.map((a) => a.status)).toEqual(Array(REQUESTS).fill(503));
    expect(answers.every((a) => a.retryAfter === '1')).toBe(true);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(BOUND_MS);
    expect((await herald.api.post(`/v1/tenants/${tenantId}/events`, { eventType: 'outage.test', payload: {} })).status).toBe(202);
  });

  it('a stopped server: every concurrent publish answers 503, and publishing works once it is back', async () => {
    await pg.stop('fast');
    let answers;
    try {
      answers = await publishAll();
    } finally {
      await pg.resume();
    }
    expect(answers.map((a) => a.status)).toEqual(Array(REQUESTS).fill(503));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(BOUND_MS);
    // The pool's broken connections are replaced as they are found broken: wait for the service to recover.
    await waitFor('publishing to work again', async () => (await herald.api.post(`/v1/tenants/${tenantId}/events`, { eventType: 'outage.test', payload: {} })).status === 202, 30_000, 200);
  });
});
