import Redis from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { LANES } from '../../src/queues/delivery-lanes';
import { deliveryJobId, deliveryQueueName, shardOf } from '../../src/queues/delivery-queues';
import { FAST_RETRY, createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

/** The integrity defects of issue 9: each test fails on the code before its fix. */
describe('delivery integrity', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  beforeAll(async () => {
    [herald, receiver] = await Promise.all([startHerald(), TestReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([herald.close(), receiver.close()]);
  });
  const api = () => herald.api;
  const deliveryOf = async (eventId: string) => (await herald.sql('SELECT * FROM deliveries WHERE event_id = $1', [eventId]))[0];

  it('fans out to an endpoint whose creation the cache never heard of', async () => {
    const tenant = await createTenant(api());
    await createEndpoint(api(), tenant.id, { url: `${receiver.url}/known` });
    await publish(api(), tenant.id, 'warm.up', {}); // the tenant's endpoint list is now cached
    // Another process created an endpoint and its invalidation message was lost: written straight to the table.
    const [known] = await herald.sql('SELECT secret_sealed, retry_policy FROM endpoints WHERE tenant_id = $1', [tenant.id]);
    await herald.sql(
      `INSERT INTO endpoints (id, tenant_id, url, secret_sealed, retry_policy) VALUES ('ep_unannounced' || substr(md5(random()::text), 1, 8), $1, $2, $3, $4)`,
      [tenant.id, `${receiver.url}/unannounced`, known.secret_sealed, JSON.stringify(known.retry_policy)],
    );
    const event = await publish(api(), tenant.id, 'after.create', { n: 1 });
    expect(event.deliveryCount).toBe(2);
    await waitFor('the unannounced endpoint to get it', () => receiver.forPath('/unannounced').length === 1);
  });

  it('offers again a delivery parked behind an endpoint that was enabled without un-parking it', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/parked` });
    const event = await publish(api(), tenant.id, 'park.me', {});
    await waitFor('the first delivery', () => receiver.forPath('/parked').length === 1);
    // Parked as a worker would park it, and enabled as a racing request could leave it: no next attempt time.
    const resend = await api().post(`/v1/tenants/${tenant.id}/deliveries/${(await deliveryOf(event.id)).id}/resend`);
    expect(resend.status).toBe(202);
    await waitFor('the resend', () => receiver.forPath('/parked').length === 2);
    // Parked only once the resend is recorded (its record would otherwise finish the row parked here).
    await waitFor('the resend recorded', async () => {
      const row = await deliveryOf(event.id);
      return row.status === 'succeeded' && row.attempt_count === 2 && row.claimed_until === null;
    });
    await herald.sql(`UPDATE deliveries SET status = 'pending', next_attempt_at = NULL WHERE event_id = $1`, [event.id]);
    expect((await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`)).body.disabled).toBe(false);
    await waitFor('the sweeper to offer the parked delivery again', () => receiver.forPath('/parked').length === 3, 30_000);
    await waitFor('it to succeed', async () => (await deliveryOf(event.id)).status === 'succeeded');
  });

  it('does not put back the health columns a worker wrote when an endpoint is PATCHed', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/patched` });
    await api().get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`);
    // What a worker writes meanwhile.
    await herald.sql(`UPDATE endpoints SET consecutive_failures = 7, failing_since = now(), disabled = true, disabled_reason = 'gone' WHERE id = $1`, [endpoint.id]);
    const patched = await api().patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { description: 'renamed' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'renamed', disabled: true, disabledReason: 'gone' });
    const [row] = await herald.sql('SELECT consecutive_failures, disabled, disabled_reason, description FROM endpoints WHERE id = $1', [endpoint.id]);
    expect(row).toEqual({ consecutive_failures: 7, disabled: true, disabled_reason: 'gone', description: 'renamed' });
  });

  it('keeps every secret of concurrent rotations signing', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/rotated` });
    const rotations = await Promise.all(Array.from({ length: 5 }, () => api().post(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret/rotate`)));
    expect(rotations.every((r) => r.status >= 200 && r.status < 300)).toBe(true);
    const secrets = [endpoint.secret, ...rotations.map((r) => r.body.secret)];
    const event = await publish(api(), tenant.id, 'rotated', { n: 1 });
    await waitFor('the delivery', () => receiver.forPath('/rotated').length === 1);
    const got = receiver.forPath('/rotated')[0];
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(6);
    for (const secret of secrets) {
      expect(() => new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
    }
    expect(got.headers['webhook-id']).toBe(event.id);
  });

  it('makes a resend asked for while an attempt is in flight once that attempt is recorded', async () => {
    const slow = await TestReceiver.start();
    try {
      slow.replyWith([{ status: 200, delayMs: 3000 }], { status: 200 });
      const tenant = await createTenant(api());
      await createEndpoint(api(), tenant.id, { url: `${slow.url}/slow`, retryPolicy: FAST_RETRY });
      const event = await publish(api(), tenant.id, 'slow', {});
      await waitFor('the first attempt to be in flight', () => slow.inFlight === 1);
      const delivery = await deliveryOf(event.id);
      expect((await api().post(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/resend`)).status).toBe(202);
      await waitFor('the manual attempt', async () => (await api().get(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/attempts`)).body.data.length === 2, 30_000);
      const attempts = (await api().get(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/attempts`)).body.data;
      expect(attempts.map((a: { trigger: string }) => a.trigger)).toEqual(['initial', 'manual']);
      expect(slow.received).toHaveLength(2);
      await waitFor('succeeded', async () => (await deliveryOf(event.id)).status === 'succeeded');
      await sleep(2000);
      expect(slow.received).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
  it('offers again a delivery whose jobs Redis holds as husks (a hash without data, left by a flush mid-fetch)', async () => {
    const tenant = await createTenant(api());
    const endpoint = await createEndpoint(api(), tenant.id, { url: `${receiver.url}/husk` });
    const event = await publish(api(), tenant.id, 'husk', {});
    await waitFor('the first delivery', () => receiver.forPath('/husk').length === 1);
    await waitFor('it recorded', async () => (await deliveryOf(event.id)).status === 'succeeded');
    const delivery = await deliveryOf(event.id);
    // What Bull's moveToActive leaves when a FLUSHALL lands between its blocking fetch and its script: the id's hash
    // with `processedOn` alone, in no list; here for the next attempt's job, in both lanes of the endpoint's shard.
    const redis = new Redis(herald.env.REDIS_URL);
    try {
      const shard = shardOf(endpoint.id, herald.config.shards);
      for (const lane of LANES) await redis.hset(`${herald.env.HERALD_QUEUE_PREFIX}:${deliveryQueueName(shard, lane)}:${deliveryJobId(delivery.id, 2)}`, 'processedOn', Date.now());
      // The delivery is pending and overdue again (as if its second attempt were due and its job lost).
      await herald.sql(`UPDATE deliveries SET status = 'pending', next_attempt_at = now() - interval '10 seconds' WHERE id = $1`, [delivery.id]);
      await waitFor('the sweeper to offer it again past the husks', () => receiver.forPath('/husk').length === 2, 30_000);
      await waitFor('it to succeed', async () => (await deliveryOf(event.id)).status === 'succeeded');
      expect((await deliveryOf(event.id)).attempt_count).toBe(2);
    } finally {
      redis.disconnect();
    }
  });

  // Retention (dead-lettering what is still pending as `expired`, keeping its event) is tested with the time
  // partitions it now drops: test/e2e/partitions.e2e-spec.ts.
});
