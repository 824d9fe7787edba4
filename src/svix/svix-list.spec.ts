import { SvixValidationError } from './svix-errors';
import { parseListRequest, toSvixList } from './svix-list';

describe('Svix lists', () => {
  const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => ({ id: `id${from + i}` }));

  it('defaults to 50 in the given order, and refuses limits outside 1..250 naming the query field', () => {
    expect(parseListRequest({}, 'ascending')).toEqual({ limit: 50, from: undefined, direction: 'ASC', backwards: false });
    expect(parseListRequest({ limit: '250', order: 'descending' }, 'ascending').direction).toBe('DESC');
    for (const limit of ['0', '251', 'x', '-1']) {
      expect(() => parseListRequest({ limit }, 'ascending')).toThrow(SvixValidationError);
    }
    try {
      parseListRequest({ order: 'sideways' }, 'ascending');
    } catch (error) {
      expect((error as SvixValidationError).items[0].loc).toEqual(['query', 'order']);
    }
  });

  it('reads a -<id> iterator backwards and flips the page back', () => {
    expect(parseListRequest({ iterator: '-id5' }, 'descending')).toEqual({ limit: 50, from: 'id5', direction: 'ASC', backwards: true });
    const request = parseListRequest({ iterator: '-id5', limit: '2' }, 'descending');
    // Read ascending after id5: id6, id7, id8 (one extra); shown newest first.
    expect(toSvixList(ids(3, 6), request, (r) => r.id, (r) => r.id)).toEqual({ data: ['id7', 'id6'], iterator: 'id6', prevIterator: '-id7', done: false });
  });

  it('says done when no extra row came back', () => {
    const request = parseListRequest({ limit: '2' }, 'ascending');
    expect(toSvixList(ids(3), request, (r) => r.id, (r) => r.id)).toMatchObject({ data: ['id1', 'id2'], iterator: 'id2', prevIterator: '-id1', done: false });
    expect(toSvixList(ids(2), request, (r) => r.id, (r) => r.id)).toMatchObject({ done: true });
    expect(toSvixList([], request, (r: { id: string }) => r.id, (r) => r.id)).toEqual({ data: [], iterator: null, prevIterator: null, done: true });
  });
});
