import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { ApiClient, spawnHerald, testEnvironment } from '../support/herald';
import { shardOf } from '../../src/queues/delivery-queues';
import { heraldProcesses } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

// Runs dist/main.js: `npm run build` first (npm test does).
describe('HERALD_ROLE: API and worker as separate processes', () => {
  const ctx = heraldProcesses();

  it('an API process alone stores and queues; a worker process started later delivers', async () => {
    const apiProcess = await spawnHerald({ ...ctx.env, HERALD_ROLE: 'api' });
    ctx.processes.push(apiProcess);
    const api = new ApiClient(apiProcess.url);
    const tenant = await createTenant(api);
    await createEndpoint(api, tenant.id, { url: ctx.receiver.url });
    const event = await publish(api, tenant.id, 'role.test', { hello: 'worker' });
    await sleep(1000);
    expect(ctx.receiver.received).toHaveLength(0);
    const pending = await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`);
    expect(pending.body.data[0]).toMatchObject({ status: 'pending', attemptCount: 0 });

    const worker = await spawnHerald({ ...ctx.env, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false' });
    ctx.processes.push(worker);
    await waitFor('delivery by the worker process', () => ctx.receiver.received.length === 1);
    expect(ctx.receiver.received[0].body).toBe('{"hello":"worker"}');
    await waitFor('succeeded', async () => (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${event.id}`)).body.data[0].status === 'succeeded');

    // The worker serves health and metrics only; its metrics show the attempt, the API's do not.
    const workerApi = new ApiClient(worker.url, null);
    expect((await workerApi.get('/health/ready')).status).toBe(200);
    expect((await workerApi.get('/v1/tenants')).status).toBe(404);
    expect((await workerApi.get('/metrics')).body).toMatch(/herald_delivery_attempts_total\{[^}]*outcome="success"\} 1/);
    expect((await new ApiClient(apiProcess.url, null).get('/metrics')).body).not.toMatch(/herald_delivery_attempts_total\{[^}]*outcome="success"\} [1-9]/);
  });

  it('a worker consumes only its HERALD_WORKER_SHARDS', async () => {
    const { env: own, dispose: dropOwn } = await testEnvironment({ HERALD_SHARDS: '2' });
    const apiProcess = await spawnHerald({ ...own, HERALD_ROLE: 'api' });
    const worker = await spawnHerald({ ...own, HERALD_ROLE: 'worker', HERALD_MIGRATE: 'false', HERALD_WORKER_SHARDS: '0' });
    ctx.processes.push(apiProcess, worker);
    try {
      const api = new ApiClient(apiProcess.url);
      const tenant = await createTenant(api);
      const byShard = new Map<number, string>();
      while (byShard.size < 2) {
        const endpoint = await createEndpoint(api, tenant.id, { url: `${ctx.receiver.url}/shard`, eventTypes: ['shards'] });
        const shard = shardOf(endpoint.id, 2);
        if (byShard.has(shard)) await api.delete(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`);
        else byShard.set(shard, endpoint.id);
      }
      const before = ctx.receiver.received.length;
      const onShard0 = await publish(api, tenant.id, 'shards', {});
      await waitFor('the shard-0 delivery', () => ctx.receiver.received.length > before);
      await sleep(1000);
      const deliveries = (await api.get(`/v1/tenants/${tenant.id}/deliveries?eventId=${onShard0.id}`)).body.data;
      const status = Object.fromEntries(deliveries.map((d: any) => [d.endpointId, d.status]));
      expect(status).toEqual({ [byShard.get(0)!]: 'succeeded', [byShard.get(1)!]: 'pending' });
    } finally {
      await Promise.all([apiProcess.stop('SIGKILL'), worker.stop('SIGKILL')]);
      await dropOwn();
    }
  });

  it('refuses to start outside development without an admin key, naming the setting', async () => {
    const { HERALD_ADMIN_KEY: _omit, ...rest } = ctx.env;
    await expect(spawnHerald({ ...rest, NODE_ENV: 'production', HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') })).rejects.toThrow(/HERALD_ADMIN_KEY/);
  });
});
