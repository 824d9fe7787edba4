import { publicBaseUrl } from './public-url';

describe('publicBaseUrl', () => {
  const req = { protocol: 'https' as const, host: 'hooks.example.com:8443' };

  it('prefers HERALD_PUBLIC_URL, without a trailing slash', () => {
    expect(publicBaseUrl(req, { publicUrl: 'https://herald.example.com/base/' })).toBe('https://herald.example.com/base');
  });

  it('else uses what the request says (forwarded protocol and host, or Host)', () => {
    expect(publicBaseUrl(req, {})).toBe('https://hooks.example.com:8443');
  });
});
