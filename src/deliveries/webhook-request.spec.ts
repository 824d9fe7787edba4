import { Webhook } from 'standardwebhooks';
import { WebhookRequest, WebhookRequestInput, buildWebhookRequest } from './webhook-request';

/** The request, for inputs that must build one. */
async function built(input: WebhookRequestInput): Promise<WebhookRequest> {
  const result = await buildWebhookRequest(input);
  if (!result.ok) throw new Error(result.error);
  return result.request;
}

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function input(overrides: Partial<WebhookRequestInput> = {}, sendTraceparent = false): WebhookRequestInput {
  return {
    endpoint: { url: 'https://example.com/hook', headers: { traceparent: 'from-endpoint-headers' }, timeoutMs: 1000, transformation: null, sendTraceparent },
    eventId: 'evt_1',
    eventType: 'invoice.paid',
    payload: '{}',
    sourceHeaders: null,
    signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    userAgent: 'Herald/test',
    startedAt: new Date(0),
    traceparent,
    ...overrides,
  };
}

describe('buildWebhookRequest: traceparent', () => {
  it('is sent to an endpoint that opted in, over any header of its own', async () => {
    expect((await built(input({}, true))).headers.traceparent).toBe(traceparent);
  });

  it('is not sent to an endpoint that did not opt in', async () => {
    expect((await built(input({}, false))).headers.traceparent).toBe('from-endpoint-headers');
  });

  it('is left out when the event has no trace', async () => {
    expect((await built(input({ traceparent: null, endpoint: { url: 'https://example.com/hook', headers: {}, timeoutMs: 1000, transformation: null, sendTraceparent: true } }))).headers).not.toHaveProperty('traceparent');
  });
});


describe('buildWebhookRequest', () => {
  const secret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
  const svixInput = (signatureHeaders?: 'webhook' | 'svix', transformation: string | null = null): WebhookRequestInput => ({
    endpoint: { url: 'https://example.com/hook', headers: { 'x-tenant': 'acme' }, timeoutMs: 5000, transformation, signatureHeaders },
    eventId: 'evt_01JD8X3Q6Y4M2N7P9R1S5T8V0W',
    eventType: 'invoice.paid',
    payload: '{"a":1}',
    sourceHeaders: null,
    signingSecrets: [secret],
    userAgent: 'Herald/test',
    startedAt: new Date(1_700_000_000_000),
  });

  it('signs with webhook-* headers by default', async () => {
    const request = await built(svixInput());
    expect(request.headers).toMatchObject({ 'webhook-id': 'evt_01JD8X3Q6Y4M2N7P9R1S5T8V0W', 'webhook-timestamp': '1700000000', 'x-tenant': 'acme' });
    expect(Object.keys(request.headers).some((h) => h.startsWith('svix-'))).toBe(false);
  });

  it('names them svix-* for endpoints that ask, with the same signature', async () => {
    const svix = await built(svixInput('svix'));
    const standard = await built(svixInput('webhook'));
    expect(svix.headers['svix-id']).toBe(standard.headers['webhook-id']);
    expect(svix.headers['svix-timestamp']).toBe(standard.headers['webhook-timestamp']);
    expect(svix.headers['svix-signature']).toBe(standard.headers['webhook-signature']);
    expect(Object.keys(svix.headers).some((h) => h.startsWith('webhook-'))).toBe(false);
    const verifier = new Webhook(secret.slice('whsec_'.length));
    expect(() =>
      verifier.verify(svix.body, { 'webhook-id': svix.headers['svix-id'], 'webhook-timestamp': svix.headers['svix-timestamp'], 'webhook-signature': svix.headers['svix-signature'] }),
    ).toThrow(/timestamp/i); // the signature is right; only its age (2023) is refused
  });

  it('signs the transformed body under svix-* names too', async () => {
    const svix = await built(svixInput('svix', '{"total": payload.a, "kind": eventType}'));
    expect(JSON.parse(svix.body)).toEqual({ total: 1, kind: 'invoice.paid' });
    const verifier = new Webhook(secret.slice('whsec_'.length));
    const now = Math.floor(Date.now() / 1000);
    const fresh = await built({ ...svixInput('svix', '{"total": payload.a}'), startedAt: new Date(now * 1000) });
    expect(verifier.verify(fresh.body, { 'webhook-id': fresh.headers['svix-id'], 'webhook-timestamp': fresh.headers['svix-timestamp'], 'webhook-signature': fresh.headers['svix-signature'] })).toEqual({ total: 1 });
  });
});
