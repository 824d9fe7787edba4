import { isAddressAllowed, parseAllowList, stripBrackets, validateEndpointUrl } from './address-guard';

const none = parseAllowList('');
const loopbackOpen = parseAllowList('127.0.0.0/8,::1/128');

/** What the sender sees: the WHATWG-normalised hostname of the URL, brackets stripped. */
const hostOf = (url: string) => stripBrackets(new URL(url).hostname);

describe('parseAllowList', () => {
  it('parses a comma-separated list, ignoring blanks and spaces', () => {
    expect(parseAllowList(' 127.0.0.0/8 , ::1/128,, ').cidrs).toHaveLength(2);
    expect(parseAllowList('').cidrs).toHaveLength(0);
  });

  it('takes a bare address as a single host', () => {
    const allow = parseAllowList('10.1.2.3');
    expect(isAddressAllowed('10.1.2.3', allow)).toBe(true);
    expect(isAddressAllowed('10.1.2.4', allow)).toBe(false);
  });

  it.each(['10.0.0.0/33', 'not-an-ip/8', '::1/129', 'localhost', '300.1.1.1/8'])('rejects %s, naming it', (bad) => {
    expect(() => parseAllowList(`127.0.0.0/8,${bad}`)).toThrow(bad);
  });
});

describe('isAddressAllowed', () => {
  // Every spelling of an internal address must be refused once the URL parser has normalised it.
  it.each([
    'http://127.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::127.0.0.1]/',
    'http://169.254.169.254/',
    'http://[fe80::1]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://0.1.2.3/',
    'http://255.255.255.255/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://240.0.0.1/',
    'http://198.18.0.1/',
    'http://192.0.2.1/',
    'http://203.0.113.9/',
    'http://[fd00::1]/',
    'http://[fc00::1]/',
    'http://[2001:db8::1]/',
    'http://[2002:7f00:1::]/',
    'http://[2001::1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[::ffff:169.254.169.254]/',
  ])('refuses %s', (url) => {
    expect(isAddressAllowed(hostOf(url), none)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('allows %s', (ip) => {
    expect(isAddressAllowed(ip, none)).toBe(true);
  });

  it('refuses what is not an IP address', () => {
    expect(isAddressAllowed('localhost', none)).toBe(false);
    expect(isAddressAllowed('', none)).toBe(false);
  });

  it('accepts the bracketed IPv6 form', () => {
    expect(isAddressAllowed('[2606:4700::1111]', none)).toBe(true);
    expect(isAddressAllowed('[::1]', none)).toBe(false);
  });

  describe('with 127.0.0.0/8,::1/128 allowed', () => {
    it.each(['http://127.0.0.1/', 'http://127.9.9.9/', 'http://2130706433/', 'http://0x7f.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/'])(
      'opens loopback: %s',
      (url) => expect(isAddressAllowed(hostOf(url), loopbackOpen)).toBe(true),
    );

    it.each(['10.0.0.1', '169.254.169.254', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1'])(
      'still refuses %s',
      (ip) => expect(isAddressAllowed(ip, loopbackOpen)).toBe(false),
    );

    it('leaves public addresses allowed', () => {
      expect(isAddressAllowed('8.8.8.8', loopbackOpen)).toBe(true);
    });
  });

  it('matches an IPv6 CIDR against the IPv6 form of a mapped address too', () => {
    expect(isAddressAllowed('::ffff:10.0.0.1', parseAllowList('::ffff:10.0.0.0/104'))).toBe(true);
  });
});

describe('validateEndpointUrl', () => {
  it.each(['https://example.com/hook', 'http://example.com:8080/a?b=c', 'http://127.0.0.1:3000/'])('accepts %s', (url) => {
    expect(validateEndpointUrl(url)).toBeNull();
  });

  it.each([
    ['', /required/],
    ['not a url', /valid URL/],
    ['ftp://example.com/', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['https://user:pw@example.com/', /username or password/],
    ['https://user@example.com/', /username or password/],
  ])('refuses %j', (url, message) => {
    expect(validateEndpointUrl(url)).toMatch(message);
  });

  it('accepts 2048 characters and refuses 2049', () => {
    const base = 'https://example.com/';
    expect(validateEndpointUrl(base + 'a'.repeat(2048 - base.length))).toBeNull();
    expect(validateEndpointUrl(base + 'a'.repeat(2049 - base.length))).toMatch(/2048/);
  });
});
