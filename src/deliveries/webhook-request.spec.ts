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
