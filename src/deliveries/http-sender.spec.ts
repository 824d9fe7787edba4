import { parseAllowList } from '../common/address-guard';
import { BlockedAddressError, classifyError, parseRetryAfter, resolveAllowed } from './http-sender';

const withCode = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date as the time left until it', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:01:00 GMT', now)).toBe(60_000);
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });

  it.each(['', 'soon', '-5', '1.5', '10s', 'Xyz, 99 Foo 2025'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });

  it('ignores absurd numbers instead of overflowing', () => {
    expect(parseRetryAfter('9'.repeat(400), now)).toBeNull();
  });
});

describe('classifyError', () => {
  it.each([
    [new BlockedAddressError('localhost', '127.0.0.1'), 'blocked_address'],
    [withCode('timeout'), 'timeout'],
    [withCode('UND_ERR_CONNECT_TIMEOUT'), 'timeout'],
    [withCode('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    [withCode('ETIMEDOUT'), 'timeout'],
    [withCode('ECONNREFUSED'), 'connection_refused'],
    [withCode('ENOTFOUND'), 'dns'],
    [withCode('EAI_AGAIN'), 'dns'],
    [withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls'],
    [withCode('CERT_HAS_EXPIRED'), 'tls'],
    [withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls'],
    [withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls'],
    [withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls'],
    [withCode('EPROTO'), 'tls'],
    [withCode('ECONNRESET'), 'connection_reset'],
    [withCode('UND_ERR_SOCKET', 'other side closed'), 'connection_reset'],
    [withCode('EHOSTUNREACH'), 'host_unreachable'],
  ])('%p → %s', (err, expected) => {
    expect(classifyError(err)).toBe(expected);
  });

  it('looks through a wrapping error to its cause', () => {
    expect(classifyError(new Error('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe('connection_refused');
  });

  it('falls back to a short message', () => {
    expect(classifyError(withCode('UND_ERR_INVALID_ARG', 'invalid header'))).toBe('invalid header');
    expect(classifyError(new Error('x'.repeat(1000)))).toHaveLength(200);
    expect(classifyError('weird')).toBe('weird');
  });
});

describe('resolveAllowed (IP literals, no DNS)', () => {
  const none = parseAllowList('');

  it.each(['127.0.0.1', '[::1]', '::ffff:127.0.0.1', '169.254.169.254', '10.0.0.1'])('refuses %s', async (host) => {
    await expect(resolveAllowed(host, none)).rejects.toMatchObject({ code: 'blocked_address' });
  });

  it('passes a public literal through, brackets stripped', async () => {
    await expect(resolveAllowed('8.8.8.8', none)).resolves.toBe('8.8.8.8');
    await expect(resolveAllowed('[2606:4700::1111]', none)).resolves.toBe('2606:4700::1111');
  });

  it('passes an allow-listed literal through', async () => {
    await expect(resolveAllowed('127.0.0.1', parseAllowList('127.0.0.0/8'))).resolves.toBe('127.0.0.1');
  });
});
