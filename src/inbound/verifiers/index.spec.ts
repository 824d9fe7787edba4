import { createHmac } from 'node:crypto';
import { sensitiveHeaders, verifyInbound, VerifierConfig } from './index';
import { InboundRequest } from './verifier.types';

function request(headers: InboundRequest['headers'], body = '{"type":"x"}'): InboundRequest {
  return { headers, rawBody: Buffer.from(body), now: new Date() };
}

describe('verifyInbound', () => {
  it('dispatches on the verifier type', () => {
    const sig = 'sha256=' + createHmac('sha256', 's3cret').update('{"type":"x"}').digest('hex');
    const github: VerifierConfig = { type: 'github', secret: 's3cret' };
    const hmac: VerifierConfig = {
      type: 'hmac',
      secret: 's3cret',
      header: 'x-hub-signature-256',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
    };
    expect(verifyInbound(github, request({ 'x-hub-signature-256': sig, 'x-github-event': 'push' }))).toEqual({ ok: true, eventType: 'push' });
    expect(verifyInbound(hmac, request({ 'x-hub-signature-256': sig }))).toEqual({ ok: true });
    expect(verifyInbound({ type: 'stripe', secret: 's3cret' }, request({ 'x-hub-signature-256': sig }))).toEqual({
      ok: false,
      reason: 'missing header stripe-signature',
    });
  });

  it('accepts anything for none', () => {
    expect(verifyInbound({ type: 'none' }, request({}))).toEqual({ ok: true });
  });

  it('fails closed, without throwing, on a stored config that does not match its type', () => {
    const noSecret = { type: 'standard-webhooks' } as unknown as VerifierConfig;
    const badAlgorithm = { type: 'hmac', secret: 's', header: 'x-sig', algorithm: 'md4x', encoding: 'hex' } as unknown as VerifierConfig;
    const headers = { 'webhook-id': 'm', 'webhook-timestamp': '1', 'webhook-signature': 'v1,AA==', 'x-sig': '00' };
    for (const config of [noSecret, badAlgorithm]) {
      expect(verifyInbound(config, request(headers))).toEqual({ ok: false, reason: 'verifier configuration error' });
    }
  });

  it('rejects an unknown verifier type', () => {
    const unknown = { type: 'carrier-pigeon' } as unknown as VerifierConfig;
    expect(verifyInbound(unknown, request({}))).toEqual({ ok: false, reason: 'unknown verifier type carrier-pigeon' });
  });
});

describe('sensitiveHeaders', () => {
  it.each<[VerifierConfig, string[]]>([
    [{ type: 'standard-webhooks', secret: 'whsec_x' }, ['webhook-signature', 'svix-signature']],
    [{ type: 'stripe', secret: 'whsec_x' }, ['stripe-signature']],
    [{ type: 'github', secret: 'x' }, ['x-hub-signature', 'x-hub-signature-256']],
    [{ type: 'shopify', secret: 'x' }, ['x-shopify-hmac-sha256']],
    [{ type: 'slack', secret: 'x' }, ['x-slack-signature']],
    [{ type: 'hmac', secret: 'x', header: 'X-My-Signature', algorithm: 'sha256', encoding: 'hex' }, ['x-my-signature']],
    [{ type: 'api-key', header: 'X-Api-Key', value: 'k' }, ['x-api-key']],
    [{ type: 'basic', username: 'u', password: 'p' }, ['authorization']],
  ])('lists the signature headers of %j, lower-case', (config, expected) => {
    expect(sensitiveHeaders(config)).toEqual(expect.arrayContaining(expected));
  });

  it('still lists the always-sensitive headers for an unknown type', () => {
    const unknown = { type: 'carrier-pigeon' } as unknown as VerifierConfig;
    expect(sensitiveHeaders(unknown)).toEqual(['authorization', 'proxy-authorization', 'cookie']);
  });

  it('always includes credentials any client may send, without duplicates', () => {
    for (const config of [{ type: 'none' }, { type: 'basic', username: 'u', password: 'p' }] as VerifierConfig[]) {
      const names = sensitiveHeaders(config);
      expect(names).toEqual(expect.arrayContaining(['authorization', 'proxy-authorization', 'cookie']));
      expect(new Set(names).size).toBe(names.length);
      expect(names.every((name) => name === name.toLowerCase())).toBe(true);
    }
  });
});
