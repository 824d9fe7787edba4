import { ApiClient } from './herald';

let counter = 0;

/** A new tenant (and, on request, its own API key) so that tests never share data. */
export async function createTenant(api: ApiClient, body: Record<string, unknown> = {}) {
  const res = await api.post('/v1/tenants', { name: `tenant ${++counter}`, ...body });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; uid: string | null; name: string };
}

export async function createTenantKey(api: ApiClient, tenantId: string): Promise<string> {
  const res = await api.post(`/v1/tenants/${tenantId}/api-keys`);
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key;
}

export async function createEndpoint(api: ApiClient, tenantId: string, body: Record<string, unknown>) {
  const res = await api.post(`/v1/tenants/${tenantId}/endpoints`, body);
  if (res.status !== 201) throw new Error(`endpoint creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; secret: string; url: string };
}

export async function publish(api: ApiClient, tenantId: string, eventType: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await api.post(`/v1/tenants/${tenantId}/events`, { eventType, payload, ...extra });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; eventType: string; createdAt: string; deliveryCount: number };
}

/** Publishes `total` events of one type in batches of `batch` (payload `{ n }`, n from 0); answers their ids in order. */
export async function publishBatches(api: ApiClient, tenantId: string, eventType: string, total: number, batch: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < total; i += batch) {
    const res = await api.post(`/v1/tenants/${tenantId}/events/batch`, { events: Array.from({ length: Math.min(batch, total - i) }, (_, j) => ({ eventType, payload: { n: i + j } })) });
    expect(res.status).toBe(202);
    ids.push(...(res.body.data as { id: string }[]).map((e) => e.id));
  }
  return ids;
}

/** A fast retry policy for tests: the schedule's shape, in milliseconds. */
export const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 300, maxDelayMs: 2000, multiplier: 2 };
