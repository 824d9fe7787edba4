import { decideOutcome } from './attempt-outcome';

const policy = { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 60000, multiplier: 2 };
const noJitter = () => 0.5;
const response = (statusCode: number | null, error: string | null = null, retryAfterMs: number | null = null) => ({ statusCode, error, retryAfterMs });

describe('decideOutcome', () => {
  it('succeeds on any 2xx', () => {
    for (const code of [200, 201, 202, 204, 299]) expect(decideOutcome(response(code), policy, 1, noJitter)).toEqual({ kind: 'succeeded' });
  });

  it('does not count a 2xx whose body never finished as a success', () => {
    expect(decideOutcome(response(200, 'timeout'), policy, 1, noJitter)).toEqual({ kind: 'retry', delayMs: 1000, error: 'timeout' });
  });

  it('retries failures on the policy schedule, then gives up', () => {
    expect(decideOutcome(response(500), policy, 1, noJitter)).toEqual({ kind: 'retry', delayMs: 1000, error: 'HTTP 500' });
    expect(decideOutcome(response(null, 'connection_refused'), policy, 2, noJitter)).toEqual({ kind: 'retry', delayMs: 2000, error: 'connection_refused' });
    expect(decideOutcome(response(500), policy, 3, noJitter)).toEqual({ kind: 'dead', error: 'HTTP 500', gone: false });
  });

  it('treats a redirect as a failure', () => {
    expect(decideOutcome(response(302), policy, 1, noJitter)).toMatchObject({ kind: 'retry', error: 'redirect 302 not followed' });
  });

  it('kills the delivery on 410 Gone, even with attempts left', () => {
    expect(decideOutcome(response(410), policy, 1, noJitter)).toEqual({ kind: 'dead', error: 'endpoint answered 410 Gone', gone: true });
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(decideOutcome(response(429, null, 30000), policy, 1, noJitter)).toMatchObject({ kind: 'retry', delayMs: 30000 });
    expect(decideOutcome(response(503, null, 30000), policy, 1, noJitter)).toMatchObject({ kind: 'retry', delayMs: 30000 });
    expect(decideOutcome(response(500, null, 30000), policy, 1, noJitter)).toMatchObject({ kind: 'retry', delayMs: 1000 });
  });
});
