import { createEndpoint, createTenant } from '../support/fixtures';
import { ApiClient, spawnHerald } from '../support/herald';
import { heraldProcesses } from '../support/processes';
import { waitFor } from '../support/wait';

const MARKER = `marker-${Date.now().toString(36)}-do-not-log`;

function lines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line is not JSON: ${line.slice(0, 300)}`);
      }
    });
}

// Runs dist/main.js: `npm run build` first (npm test does).
describe('logs: JSON lines with request ids, never a payload or a header value', () => {
  const ctx = heraldProcesses();

  it('logs a failing group commit without its parameters; every line is JSON with a level, request lines carry the request id', async () => {
    const herald = await spawnHerald({ ...ctx.env, HERALD_LOG_LEVEL: 'debug' });
    ctx.processes.push(herald);
    const api = new ApiClient(herald.url);
    const tenant = await createTenant(api);
    await createEndpoint(api, tenant.id, { url: ctx.receiver.url, headers: { 'X-Receiver-Credential': MARKER } });

    // Concurrent publishes share commits; one of them carries a value PostgreSQL refuses (a NUL in a
    // varchar), so its statement fails with every member's payload, the marker, as parameters.
    const good = Array.from({ length: 12 }, (_, i) => api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'log.test', payload: { secret: MARKER, i } }));
    const bad = api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'log.test', payload: { secret: MARKER }, idempotencyKey: `k\u0000${MARKER}` }, { 'x-request-id': 'caller-chosen-id-1' });
    const [badRes, ...goodRes] = await Promise.all([bad, ...good]);
    expect(badRes.status).toBe(400);
    expect(badRes.headers.get('x-request-id')).toBe('caller-chosen-id-1');
    expect(badRes.body.requestId).toBe('caller-chosen-id-1');
    expect(goodRes.map((r) => r.status)).toEqual(Array(12).fill(202));
    // A 404 of the router and an unauthenticated request: request ids there too.
    const unknown = await api.get('/v1/tenants/tnt_01JAAAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.body.requestId).toBe(unknown.headers.get('x-request-id'));
    const insane = await api.as(null).request('GET', `/v1/tenants/${tenant.id}`, undefined, { 'x-request-id': 'not sane {"level":"fatal"}' });
    expect(insane.status).toBe(401);
    expect(insane.body.requestId).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor('the 12 deliveries, with the endpoint header', () => ctx.receiver.received.length >= 12);
    expect(ctx.receiver.received[0].headers['x-receiver-credential']).toBe(MARKER);
    await waitFor('the statement failure logged', () => herald.output().includes('statement failed'));
    await herald.stop();

    const output = herald.output();
    expect(output).not.toContain(MARKER);
    const logged = lines(output);
    for (const line of logged) expect(['debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
    const failure = logged.find((l) => l.msg === 'statement failed');
    expect(failure).toMatchObject({ level: 'warn', code: '22021', statement: expect.stringMatching(/events|event_idempotency_keys/) });
    const completed = logged.filter((l) => l.msg === 'request completed');
    expect(completed.length).toBeGreaterThanOrEqual(16);
    for (const line of completed) expect(line.requestId).toEqual(expect.any(String));
    // The user's 400 can be found in the log by its request id.
    expect(completed.find((l) => l.requestId === 'caller-chosen-id-1')).toMatchObject({ res: { statusCode: 400 }, req: { method: 'POST' } });
    expect(completed.find((l) => l.requestId === insane.body.requestId)).toMatchObject({ res: { statusCode: 401 } });
  });

  it('HERALD_LOG_LEVEL=warn quiets the start-up lines too', async () => {
    const herald = await spawnHerald({ ...ctx.env, HERALD_LOG_LEVEL: 'warn', HERALD_MIGRATE: 'false' });
    ctx.processes.push(herald);
    expect((await new ApiClient(herald.url).get('/v1/tenants')).status).toBe(200);
    await herald.stop();
    const levels = lines(herald.output()).map((l) => l.level);
    expect(levels.filter((level) => level === 'info' || level === 'debug')).toEqual([]);
  });
});
