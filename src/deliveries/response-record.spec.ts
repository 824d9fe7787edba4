import { gzipSync } from 'node:zlib';
import { MAX_KEPT_HEADER_BYTES, isStorableText, keepBody, keepHeaders } from './response-record';

describe('keepBody', () => {
  it('keeps UTF-8 text as text', () => {
    expect(keepBody(Buffer.from('{"ok":true} – ✓'))).toEqual({ body: '{"ok":true} – ✓', encoding: 'utf8' });
  });

  it.each([
    ['a NUL byte', Buffer.from('ok\u0000ok')],
    ['invalid UTF-8', Buffer.from([0x66, 0xff, 0xfe, 0x6f])],
    ['a gzip body', gzipSync('hello')],
    ['a lone continuation byte', Buffer.from([0x80])],
  ])('keeps %s as base64, byte for byte', (_, bytes) => {
    const kept = keepBody(bytes);
    expect(kept.encoding).toBe('base64');
    expect(Buffer.from(kept.body, 'base64').equals(bytes)).toBe(true);
  });

  it('keeps a body cut inside a character as text, without the broken character', () => {
    const full = Buffer.from('abc✓');
    expect(keepBody(full.subarray(0, 5), true)).toEqual({ body: 'abc', encoding: 'utf8' });
    expect(keepBody(full.subarray(0, 5), false).encoding).toBe('base64');
  });

  it('says what is storable', () => {
    expect(isStorableText(Buffer.from(''))).toBe(true);
    expect(isStorableText(Buffer.from([0]))).toBe(false);
  });
});

describe('keepHeaders', () => {
  it('keeps ordinary headers as they are', () => {
    expect(keepHeaders({ 'content-type': 'text/plain', 'x-tab': 'a\tb' })).toEqual({ headers: { 'content-type': 'text/plain', 'x-tab': 'a\tb' }, base64: [] });
  });

  it('keeps a value with control characters as base64 of its bytes, and names it', () => {
    const kept = keepHeaders({ 'x-odd': 'a\u0000b\u0001', 'x-latin': 'caf\u00e9' });
    expect(kept.base64).toEqual(['x-odd']);
    expect(Buffer.from(kept.headers['x-odd'], 'base64')).toEqual(Buffer.from([0x61, 0, 0x62, 1]));
    expect(kept.headers['x-latin']).toBe('caf\u00e9');
  });

  it('stops at the size bound', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v'.repeat(500)]));
    const kept = keepHeaders(many);
    const size = Object.entries(kept.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(MAX_KEPT_HEADER_BYTES);
    expect(Object.keys(kept.headers).length).toBeGreaterThan(10);
  });
});
