import { forwardableHeaders, inboundEventType, inboundPayload, providerIdempotencyKey, sanitiseEventType } from './inbound-event';

describe('inboundEventType', () => {
  const source = { name: 'billing', eventType: null };

  it("prefers the provider's type, then the source's, then <name>.received", () => {
    expect(inboundEventType('invoice.paid', { ...source, eventType: 'x.y' })).toBe('invoice.paid');
    expect(inboundEventType(undefined, { ...source, eventType: 'x.y' })).toBe('x.y');
    expect(inboundEventType(undefined, source)).toBe('billing.received');
  });

  it('sanitises what an event type may not contain', () => {
    expect(inboundEventType('pull request/opened', source)).toBe('pull_request_opened');
    expect(inboundEventType(undefined, { name: 'Legacy ERP (prod)', eventType: null })).toBe('Legacy_ERP__prod_.received');
    expect(inboundEventType(undefined, { name: 'x'.repeat(128), eventType: null })).toMatch(/^x+\.received$/);
    expect(inboundEventType(undefined, { name: 'x'.repeat(128), eventType: null }).length).toBeLessThanOrEqual(128);
    expect(sanitiseEventType('')).toBe('received');
    expect(sanitiseEventType('a'.repeat(300))).toHaveLength(128);
  });
});

describe('inboundPayload', () => {
  it('keeps a JSON object byte for byte', () => {
    const body = '{\n  "id": "evt_1",  "note": "café ☕"\n}';
    expect(inboundPayload(Buffer.from(body), 'application/json')).toBe(body);
  });

  it('wraps everything else as {raw, contentType}', () => {
    const wrapped = (body: Buffer, type?: string) => JSON.parse(inboundPayload(body, type));
    expect(wrapped(Buffer.from('a=1&b=2'), 'application/x-www-form-urlencoded')).toEqual({ raw: 'YT0xJmI9Mg==', contentType: 'application/x-www-form-urlencoded' });
    expect(wrapped(Buffer.from('[1,2]'), 'application/json')).toEqual({ raw: Buffer.from('[1,2]').toString('base64'), contentType: 'application/json' });
    expect(wrapped(Buffer.from('null'), 'application/json').raw).toBe(Buffer.from('null').toString('base64'));
    expect(wrapped(Buffer.alloc(0))).toEqual({ raw: '', contentType: 'application/octet-stream' });
  });

  it('wraps JSON that is not valid UTF-8, which a text column could not keep byte for byte', () => {
    const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(JSON.parse(inboundPayload(body, 'application/json')).raw).toBe(body.toString('base64'));
  });
});

describe('providerIdempotencyKey', () => {
  it('scopes the id to the source and hashes long ids', () => {
    expect(providerIdempotencyKey('src_1', 'evt_9')).toBe('src:src_1:evt_9');
    const long = providerIdempotencyKey('src_1', 'x'.repeat(500));
    expect(long).toMatch(/^src:src_1:sha256:[0-9a-f]{64}$/);
    expect(long.length).toBeLessThanOrEqual(256);
  });
});

describe('forwardableHeaders', () => {
  it('drops hop-by-hop headers, credentials and the verifier signature headers', () => {
    const headers = {
      'content-type': 'application/json',
      'content-length': '12',
      host: 'herald.example.com',
      connection: 'keep-alive, x-hop',
      'x-hop': 'yes',
      'transfer-encoding': 'chunked',
      authorization: 'Basic abc',
      cookie: 'a=b',
      'stripe-signature': 't=1,v1=abc',
      'user-agent': 'Stripe/1.0',
      'x-multi': ['a', 'b'],
      'x-missing': undefined,
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-proto': 'https',
      forwarded: 'for=10.0.0.1',
    };
    expect(forwardableHeaders(headers, { type: 'stripe', secret: 'whsec_x' })).toEqual({ 'content-type': 'application/json', 'user-agent': 'Stripe/1.0', 'x-multi': 'a, b' });
  });

  it('drops the configured header of hmac and api-key verifiers, whatever its case', () => {
    const headers = { 'x-signature': 'abc', 'x-other': '1' };
    expect(forwardableHeaders(headers, { type: 'hmac', secret: 's', header: 'X-Signature', algorithm: 'sha256', encoding: 'hex' })).toEqual({ 'x-other': '1' });
    expect(forwardableHeaders(headers, { type: 'api-key', header: 'X-SIGNATURE', value: 'abc' })).toEqual({ 'x-other': '1' });
  });

  it('keeps at most 50 headers of sensible size', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x-h${i}`, 'v']));
    expect(Object.keys(forwardableHeaders(many, { type: 'none' }))).toHaveLength(50);
    expect(forwardableHeaders({ 'x-big': 'v'.repeat(5000) }, { type: 'none' })).toEqual({});
  });
});
