import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { ApiClient, HeraldEnv, HeraldProcess, spawnHerald, testEnvironment } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

// Runs dist/main.js: `npm run build` first (npm test does).
describe('a graceful stop', () => {
  let env: HeraldEnv;
  let dropDatabase: () => Promise<void>;
  let receiver: TestReceiver;
  const processes: HeraldProcess[] = [];

  beforeAll(async () => {
    ({ env, dropDatabase } = await testEnvironment());
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await receiver.close();
    await dropDatabase();
  });

  it('lets an attempt longer than the old 20 s cut-off finish, records it once, and sends it once', async () => {
    const apiProcess = await spawnHerald({ ...env, HERALD_ROLE: 'api' });
    const worker = await spawnHerald({ ...env, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false' });
    processes.push(apiProcess, worker);
    const api = new ApiClient(apiProcess.url);
    receiver.replyWith([{ status: 200, body: 'finally', delayMs: 25_000 }], { status: 200 });
    const tenant = await createTenant(api);
    await createEndpoint(api, tenant.id, { url: `${receiver.url}/long`, timeoutMs: 40_000 });
    const event = await publish(api, tenant.id, 'long.one', {});
    await waitFor('the attempt to be in flight', () => receiver.inFlight === 1);

    expect(await worker.stop('SIGTERM')).toBe(0);
    const deliveries = (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data;
    expect(deliveries[0]).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    const attempts = (await api.get(`/v1/tenants/${tenant.id}/deliveries/${deliveries[0].id}/attempts`)).body.data;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ statusCode: 200, responseBody: 'finally', error: null });

    // Another worker finds nothing to send again.
    processes.push(await spawnHerald({ ...env, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false' }));
    await sleep(5000);
    expect(receiver.forPath('/long')).toHaveLength(1);
  });
});
