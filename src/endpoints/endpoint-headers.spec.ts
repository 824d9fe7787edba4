import { endpointHeadersProblem } from './endpoint-headers';

describe('endpointHeadersProblem', () => {
  it('accepts ordinary headers, tabs and Latin-1 bytes in values', () => {
    expect(endpointHeadersProblem({ Authorization: 'Bearer abc', 'X-Tenant': 'a\tb', 'X-Name': 'café' })).toBeNull();
    expect(endpointHeadersProblem({})).toBeNull();
  });

  it.each([
    ['Expect', '100-continue'],
    ['Content-Encoding', 'gzip'],
    ['content-type', 'text/plain'],
    ['Content-Length', '1'],
    ['Transfer-Encoding', 'chunked'],
    ['Connection', 'close'],
    ['Upgrade', 'h2c'],
    ['webhook-id', 'x'],
    ['Host', 'example.com'],
    ['User-Agent', 'me'],
  ])('refuses the name %s, naming it', (name, value) => {
    expect(endpointHeadersProblem({ [name]: value })).toContain(name);
  });

  it.each(['\u0001', '\u007f', 'a\r\nInjected: yes', 'a\u0000', '€', 'x'.repeat(4097)])('refuses the value %j', (value) => {
    expect(endpointHeadersProblem({ 'X-Ok': value })).toContain('X-Ok');
  });

  it('refuses bad names, non-string values and too many headers', () => {
    expect(endpointHeadersProblem({ 'bad name': 'x' })).toMatch(/not a valid header name/);
    expect(endpointHeadersProblem({ 'X-N': 1 })).toMatch(/must be a string/);
    expect(endpointHeadersProblem(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-${i}`, 'v'])))).toMatch(/at most 50/);
    expect(endpointHeadersProblem([])).not.toBeNull();
  });
});
