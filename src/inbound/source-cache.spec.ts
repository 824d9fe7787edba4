import { CachedSource, isFresh, UNKNOWN } from './source-cache';

const entry = (version: CachedSource['version'], at = 0): CachedSource => ({ value: null, version, at });

describe('isFresh', () => {
  it('keeps a copy whose version is current', () => {
    expect(isFresh(entry('3'), '3', 1000)).toBe(true);
    expect(isFresh(entry(null), null, 1000)).toBe(true);
  });

  it('drops a copy once the version moved, however young', () => {
    expect(isFresh(entry('3'), '4', 0)).toBe(false);
    expect(isFresh(entry(null), '1', 0)).toBe(false);
    // Redis lost the versions (flushed, restarted empty): reload rather than trust
    expect(isFresh(entry('3'), null, 0)).toBe(false);
  });

  it('drops a copy loaded while Redis was away once Redis answers', () => {
    expect(isFresh(entry(UNKNOWN), '3', 0)).toBe(false);
    expect(isFresh(entry(UNKNOWN), null, 0)).toBe(false);
  });

  it('trusts any copy for 5 s only while the version cannot be read', () => {
    expect(isFresh(entry('3'), UNKNOWN, 4999)).toBe(true);
    expect(isFresh(entry('3'), UNKNOWN, 5000)).toBe(false);
  });

  it('bounds even a current copy to a minute', () => {
    expect(isFresh(entry('3'), '3', 59_999)).toBe(true);
    expect(isFresh(entry('3'), '3', 60_000)).toBe(false);
  });
});
