import { header, jsonObject, stringField } from './inbound-request';
import { InboundRequest } from './verifier.types';

function request(headers: InboundRequest['headers']): InboundRequest {
  return { headers, rawBody: Buffer.alloc(0), now: new Date() };
}

describe('header', () => {
  it('returns the first value of a repeated header, trimmed, looked up lower-case', () => {
    expect(header(request({ 'x-a': [' one ', 'two'] }), 'X-A')).toBe('one');
  });

  it('treats an absent, empty or blank value as missing', () => {
    for (const value of [undefined, '', '   ', [], ['']]) {
      expect(header(request({ 'x-a': value }), 'x-a')).toBeUndefined();
    }
  });
});

describe('jsonObject', () => {
  it('parses a JSON object body and ignores anything else', () => {
    expect(jsonObject(Buffer.from('{"type":"a"}'))).toEqual({ type: 'a' });
    for (const body of ['a=b&c=d', '[1]', 'null', '"s"', '']) {
      expect(jsonObject(Buffer.from(body))).toBeUndefined();
    }
  });

  it('reads non-empty string fields only', () => {
    const body = { a: 'x', b: '', c: 1 };
    expect(stringField(body, 'a')).toBe('x');
    expect([stringField(body, 'b'), stringField(body, 'c'), stringField(undefined, 'a')]).toEqual([undefined, undefined, undefined]);
  });
});
