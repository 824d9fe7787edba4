import { jsonRows } from './json-rows';

describe('jsonRows', () => {
  it('is JSON.stringify for rows of well-formed strings, dates and nested values', () => {
    const rows = [{ a: 'q"uo\\te é 🎉 \\ud800 as text', at: new Date('2026-11-27T10:11:12.345Z'), h: { k: 'v' }, list: ['x'], n: null }];
    expect(jsonRows(rows)).toBe(JSON.stringify(rows));
  });

  it('writes half a surrogate pair, at any depth, as U+FFFD and leaves whole pairs alone', () => {
    const text = jsonRows([{ error: 'cut mid-emoji: \ud83c', whole: '🎉', h: { k: '\udc00x' }, list: ['\ud800'] }]);
    expect(text).not.toMatch(/\\ud[89a-f]/i);
    expect(JSON.parse(text)).toEqual([{ error: 'cut mid-emoji: \ufffd', whole: '🎉', h: { k: '\ufffdx' }, list: ['\ufffd'] }]);
  });
});
