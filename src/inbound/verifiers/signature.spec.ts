import { bytesEqual, decodeBase64, decodeHex, parseUnixSeconds, withinTolerance } from './signature';

describe('bytesEqual', () => {
  it('is true only for identical bytes, whatever the lengths', () => {
    expect(bytesEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(bytesEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(bytesEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(bytesEqual(Buffer.alloc(0), Buffer.from('a'))).toBe(false);
  });
});

describe('strict decoders', () => {
  it('decode hex of even length only', () => {
    expect(decodeHex('00ff')).toEqual(Buffer.from([0, 255]));
    expect(decodeHex('00FF')).toEqual(Buffer.from([0, 255]));
    expect(decodeHex('0')).toBeUndefined();
    expect(decodeHex('zz')).toBeUndefined();
    expect(decodeHex('')).toBeUndefined();
  });

  it('decode padded standard base64 only', () => {
    expect(decodeBase64('AP8=')).toEqual(Buffer.from([0, 255]));
    expect(decodeBase64('AP8')).toBeUndefined();
    expect(decodeBase64('AP_-')).toBeUndefined();
    expect(decodeBase64('A P8=')).toBeUndefined();
    expect(decodeBase64('')).toBeUndefined();
  });
});

describe('timestamps', () => {
  it('parse plain unix seconds only', () => {
    expect(parseUnixSeconds('1700000000')).toBe(1700000000);
    expect(parseUnixSeconds('-1')).toBeUndefined();
    expect(parseUnixSeconds('1e9')).toBeUndefined();
    expect(parseUnixSeconds('1700000000000000')).toBeUndefined();
  });

  it('allow five minutes either way', () => {
    const now = new Date(1_700_000_000_000);
    expect(withinTolerance(1_700_000_000 - 300, now)).toBe(true);
    expect(withinTolerance(1_700_000_000 + 300, now)).toBe(true);
    expect(withinTolerance(1_700_000_000 - 301, now)).toBe(false);
    expect(withinTolerance(1_700_000_000 + 301, now)).toBe(false);
  });
});
