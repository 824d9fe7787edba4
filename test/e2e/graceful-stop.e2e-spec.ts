import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { ApiClient, spawnHerald } from '../support/herald';
import { heraldProcesses } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

// Runs dist/main.js: `npm run build` first (npm test does).
describe('a graceful stop', () => {
  const ctx = heraldProcesses();

  it('lets an attempt longer than the old 20 s cut-off finish, records it once, and sends it once', async () => {
    const apiProcess = await spawnHerald({ ...ctx.env, HERALD_ROLE: 'api' });
    const worker = await spawnHerald({ ...ctx.env, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false' });
    ctx.processes.push(apiProcess, worker);
    const api = new ApiClient(apiProcess.url);
    ctx.receiver.replyWith([{ status: 200, body: 'finally', delayMs: 25_000 }], { status: 200 });
    const tenant = await createTenant(api);
    await createEndpoint(api, tenant.id, { url: `${ctx.receiver.url}/long`, timeoutMs: 40_000 });
    const event = await publish(api, tenant.id, 'long.one', {});
    await waitFor('the attempt to be in flight', () => ctx.receiver.inFlight === 1);

    expect(await worker.stop('SIGTERM')).toBe(0);
    const deliveries = (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data;
    expect(deliveries[0]).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    const attempts = (await api.get(`/v1/tenants/${tenant.id}/deliveries/${deliveries[0].id}/attempts`)).body.data;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ statusCode: 200, responseBody: 'finally', error: null });

    // Another worker finds nothing to send again.
    ctx.processes.push(await spawnHerald({ ...ctx.env, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false' }));
    await sleep(5000);
    expect(ctx.receiver.forPath('/long')).toHaveLength(1);
  });
});
