import { Webhook } from 'standardwebhooks';
import { buildWebhookRequest, WebhookRequestInput } from './webhook-request';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function input(overrides: Partial<WebhookRequestInput> = {}, sendTraceparent = false): WebhookRequestInput {
  return {
    endpoint: { url: 'https://example.com/hook', headers: { traceparent: 'from-endpoint-headers' }, timeoutMs: 1000, sendTraceparent },
    eventId: 'evt_1',
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
  it('is sent to an endpoint that opted in, over any header of its own', () => {
    expect(buildWebhookRequest(input({}, true)).headers.traceparent).toBe(traceparent);
  });

  it('is not sent to an endpoint that did not opt in', () => {
    expect(buildWebhookRequest(input({}, false)).headers.traceparent).toBe('from-endpoint-headers');
  });

  it('is left out when the event has no trace', () => {
    expect(buildWebhookRequest(input({ traceparent: null, endpoint: { url: 'https://example.com/hook', headers: {}, timeoutMs: 1000, sendTraceparent: true } })).headers).not.toHaveProperty('traceparent');
  });
});


describe('buildWebhookRequest', () => {
  const secret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
  const svixInput = (signatureHeaders?: 'webhook' | 'svix') => ({
    endpoint: { url: 'https://example.com/hook', headers: { 'x-tenant': 'acme' }, timeoutMs: 5000, signatureHeaders },
    eventId: 'evt_01JD8X3Q6Y4M2N7P9R1S5T8V0W',
    payload: '{"a":1}',
    sourceHeaders: null,
    signingSecrets: [secret],
    userAgent: 'Herald/test',
    startedAt: new Date(1_700_000_000_000),
  });

  it('signs with webhook-* headers by default', () => {
    const request = buildWebhookRequest(svixInput());
    expect(request.headers).toMatchObject({ 'webhook-id': 'evt_01JD8X3Q6Y4M2N7P9R1S5T8V0W', 'webhook-timestamp': '1700000000', 'x-tenant': 'acme' });
    expect(Object.keys(request.headers).some((h) => h.startsWith('svix-'))).toBe(false);
  });

  it('names them svix-* for endpoints that ask, with the same signature', () => {
    const svix = buildWebhookRequest(svixInput('svix'));
    const standard = buildWebhookRequest(svixInput('webhook'));
    expect(svix.headers['svix-id']).toBe(standard.headers['webhook-id']);
    expect(svix.headers['svix-timestamp']).toBe(standard.headers['webhook-timestamp']);
    expect(svix.headers['svix-signature']).toBe(standard.headers['webhook-signature']);
    expect(Object.keys(svix.headers).some((h) => h.startsWith('webhook-'))).toBe(false);
    const verifier = new Webhook(secret.slice('whsec_'.length));
    expect(() =>
      verifier.verify(svix.body, { 'webhook-id': svix.headers['svix-id'], 'webhook-timestamp': svix.headers['svix-timestamp'], 'webhook-signature': svix.headers['svix-signature'] }),
    ).toThrow(/timestamp/i); // the signature is right; only its age (2023) is refused
  });
});
