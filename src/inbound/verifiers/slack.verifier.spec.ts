import { createHmac } from 'node:crypto';
import { verifySlack } from './slack.verifier';
import { InboundRequest } from './verifier.types';

// Slack's published example ("Verifying requests from Slack").
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const config = { type: 'slack' as const, secret: SECRET };
const NOW = new Date(TIMESTAMP * 1000);

/** `timestamp: null` leaves the timestamp header out (undefined would select the default). */
function request(signature: string | undefined, body = BODY, now = NOW, timestamp: string | null = String(TIMESTAMP)): InboundRequest {
  const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp ?? undefined };
  return { headers, rawBody: Buffer.from(body), now };
}

function sign(body: string, timestamp = TIMESTAMP): string {
  return 'v0=' + createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
}

describe('verifySlack', () => {
  it('accepts the documented form-encoded example, with no event type', () => {
    expect(verifySlack(config, request(SIGNATURE))).toEqual({ ok: true, eventType: undefined, providerEventId: undefined });
  });

  it('reads event.type and event_id from an Events API body', () => {
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev123', event: { type: 'app_mention' } });
    expect(verifySlack(config, request(sign(body), body))).toEqual({ ok: true, eventType: 'app_mention', providerEventId: 'Ev123' });
  });

  it('falls back to the top-level type when there is no event', () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc' });
    expect(verifySlack(config, request(sign(body), body))).toEqual({ ok: true, eventType: 'url_verification', providerEventId: undefined });
  });

  it('rejects a wrong secret', () => {
    expect(verifySlack({ ...config, secret: SECRET.replace('8f', '9f') }, request(SIGNATURE))).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('rejects an altered body', () => {
    expect(verifySlack(config, request(SIGNATURE, BODY.replace('roadrunner', 'coyote')))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a changed timestamp header: the signature covers it', () => {
    expect(verifySlack(config, request(SIGNATURE, BODY, NOW, String(TIMESTAMP + 1)))).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a validly signed but stale request, and accepts one at the edge of tolerance', () => {
    expect(verifySlack(config, request(SIGNATURE, BODY, new Date((TIMESTAMP + 300) * 1000))).ok).toBe(true);
    expect(verifySlack(config, request(SIGNATURE, BODY, new Date((TIMESTAMP + 301) * 1000)))).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
  });

  it('rejects missing headers', () => {
    expect(verifySlack(config, request(undefined))).toEqual({ ok: false, reason: 'missing header x-slack-signature' });
    expect(verifySlack(config, request(SIGNATURE, BODY, NOW, null))).toEqual({
      ok: false,
      reason: 'missing header x-slack-request-timestamp',
    });
  });

  it.each([
    ['a signature without v0=', SIGNATURE.slice(3), String(TIMESTAMP), 'malformed header x-slack-signature'],
    ['a v1 signature', 'v1=' + SIGNATURE.slice(3), String(TIMESTAMP), 'malformed header x-slack-signature'],
    ['a timestamp that is not a number', SIGNATURE, '1531420618.5', 'malformed header x-slack-request-timestamp'],
  ])('rejects %s without throwing', (_, signature, timestamp, reason) => {
    expect(verifySlack(config, request(signature, BODY, NOW, timestamp))).toEqual({ ok: false, reason });
  });
});
