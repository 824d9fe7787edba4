import { verifyBasic } from './basic.verifier';
import { InboundRequest } from './verifier.types';

const config = { type: 'basic' as const, username: 'user', password: 'pa:ss' };

function request(authorization?: string | string[]): InboundRequest {
  return { headers: { authorization }, rawBody: Buffer.from('{}'), now: new Date() };
}

describe('verifyBasic', () => {
  // `printf 'user:pa:ss' | base64`; the password contains the separator.
  const valid = 'Basic dXNlcjpwYTpzcw==';

  it('accepts the right credentials, whatever the case of the scheme', () => {
    expect(verifyBasic(config, request(valid))).toEqual({ ok: true });
    expect(verifyBasic(config, request('basic dXNlcjpwYTpzcw=='))).toEqual({ ok: true });
  });

  it('takes the first value of a repeated header', () => {
    expect(verifyBasic(config, request([valid, 'Basic Zm9vOmJhcg==']))).toEqual({ ok: true });
  });

  it.each([
    ['a wrong password', 'user:pa:sS'],
    ['a wrong user', 'usex:pa:ss'],
    ['a password prefix', 'user:pa'],
    ['a trailing colon', 'user:pa:ss:'],
  ])('rejects %s', (_, credentials) => {
    expect(verifyBasic(config, request('Basic ' + Buffer.from(credentials).toString('base64')))).toEqual({
      ok: false,
      reason: 'invalid credentials',
    });
  });

  it('rejects a missing header', () => {
    expect(verifyBasic(config, request(undefined))).toEqual({ ok: false, reason: 'missing header authorization' });
  });

  it.each([
    ['another scheme', 'Bearer dXNlcjpwYTpzcw=='],
    ['no colon', 'Basic ' + Buffer.from('userpass').toString('base64')],
    ['not base64', 'Basic !!!'],
    ['no credentials', 'Basic'],
  ])('rejects %s as malformed without throwing', (_, value) => {
    expect(verifyBasic(config, request(value))).toEqual({ ok: false, reason: 'malformed header authorization' });
  });

  it('rejects everything when no password is configured', () => {
    const empty = { ...config, password: '' };
    expect(verifyBasic(empty, request('Basic ' + Buffer.from('user:').toString('base64')))).toEqual({
      ok: false,
      reason: 'invalid verifier credentials',
    });
  });
});
