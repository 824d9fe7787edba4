import { createEndpoint, createTenant, createTenantKey } from '../support/fixtures';
import { ApiClient, HeraldEnv, HeraldProcess, spawnHerald, testEnvironment } from '../support/herald';
import { waitFor } from '../support/wait';

/**
 * Two API processes share one database: what one deletes or revokes, the other must forget at once
 * (a Redis message), not after its cache's TTL (5 s for tenants, 10 s for keys). The waits below are
 * for a message between processes, and end well before either TTL could have done the work.
 */
const WELL_BEFORE_TTL_MS = 4000;

// Runs dist/main.js: `npm run build` first (npm test does).
describe('tenant and API-key caches across API processes', () => {
  let env: HeraldEnv;
  let dispose: () => Promise<void>;
  let one: HeraldProcess;
  let two: HeraldProcess;

  beforeAll(async () => {
    ({ env, dispose } = await testEnvironment());
    one = await spawnHerald({ ...env, HERALD_ROLE: 'api' });
    two = await spawnHerald({ ...env, HERALD_ROLE: 'api', HERALD_MIGRATE: 'false' });
  });
  afterAll(async () => {
    await Promise.all([one?.stop('SIGKILL'), two?.stop('SIGKILL')]);
    await dispose();
  });

  it("stops a deleted tenant's key and path on the other process at once; writing under it answers 404, never 500", async () => {
    const admin1 = new ApiClient(one.url);
    const admin2 = new ApiClient(two.url);
    const tenant = await createTenant(admin1, { uid: `cache-${Date.now()}` });
    const key = await createTenantKey(admin1, tenant.id);
    const tenant2 = admin2.as(key);
    // The second process caches the key and the tenant (by id and by uid).
    expect((await tenant2.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    expect((await admin2.get(`/v1/tenants/${tenant.uid}`)).status).toBe(200);

    expect((await admin1.delete(`/v1/tenants/${tenant.id}`)).status).toBe(204);

    await waitFor('the key refused on the other process', async () => (await tenant2.get(`/v1/tenants/${tenant.id}`)).status === 401, WELL_BEFORE_TTL_MS);
    for (const path of [tenant.id, tenant.uid!]) {
      expect((await admin2.get(`/v1/tenants/${path}`)).status).toBe(404);
      const created = await admin2.post(`/v1/tenants/${path}/endpoints`, { url: 'https://example.com/hook' });
      expect(created.status).toBe(404);
    }
  });

  it('stops a revoked key on every process at once', async () => {
    const admin1 = new ApiClient(one.url);
    const tenant = await createTenant(admin1);
    const { id: keyId, key } = (await admin1.post(`/v1/tenants/${tenant.id}/api-keys`)).body;
    const keep = await createTenantKey(admin1, tenant.id);
    const onTwo = new ApiClient(two.url, key);
    expect((await onTwo.get(`/v1/tenants/${tenant.id}/endpoints`)).status).toBe(200);

    expect((await admin1.delete(`/v1/tenants/${tenant.id}/api-keys/${keyId}`)).status).toBe(204);
    await waitFor('the revoked key refused on the other process', async () => (await onTwo.get(`/v1/tenants/${tenant.id}/endpoints`)).status === 401, WELL_BEFORE_TTL_MS);
    expect((await new ApiClient(one.url, key).get(`/v1/tenants/${tenant.id}/endpoints`)).status).toBe(401);
    // The tenant's other key still works, and the tenant and its endpoints are untouched.
    await createEndpoint(new ApiClient(two.url, keep), tenant.id, { url: 'https://example.com/still' });
    expect((await admin1.delete(`/v1/tenants/${tenant.id}/api-keys/${keyId}`)).status).toBe(404);
    expect((await new ApiClient(one.url, keep).delete(`/v1/tenants/${tenant.id}/api-keys/${keyId}`)).status).toBe(403);
  });
});
