import { FILTER_LIMITS, compileFilter } from './payload-filter';

function run(filter: unknown, payload: unknown, eventType = 'invoice.paid') {
  const compiled = compileFilter(filter);
  if (!compiled.ok) throw new Error(`${compiled.path}: ${compiled.message}`);
  return compiled.filter({ eventType, payload });
}
const holds = (filter: unknown, payload: unknown, eventType?: string) => run(filter, payload, eventType).matches;

describe('payload filters', () => {
  const invoice = { data: { amount: 1500, currency: 'EUR', tags: ['vip', 'eu'], customer: { id: 'cus_1', email: 'a@example.com' }, lines: [{ sku: 'A' }, { sku: 'B' }] }, live: true, note: null };

  it('$eq by literal and by operator, deep values included', () => {
    expect(holds({ data: { currency: 'EUR' } }, invoice)).toBe(true);
    expect(holds({ data: { currency: { $eq: 'USD' } } }, invoice)).toBe(false);
    expect(holds({ live: true, note: null }, invoice)).toBe(true);
    expect(holds({ 'data.customer': { $eq: { id: 'cus_1', email: 'a@example.com' } } }, invoice)).toBe(true);
    expect(holds({ 'data.tags': ['vip', 'eu'] }, invoice)).toBe(true);
  });

  it('$neq is the negation of $eq (a missing value is not equal)', () => {
    expect(holds({ data: { currency: { $neq: 'USD' } } }, invoice)).toBe(true);
    expect(holds({ data: { currency: { $neq: 'EUR' } } }, invoice)).toBe(false);
    expect(holds({ data: { missing: { $neq: 'x' } } }, invoice)).toBe(true);
  });

  it('$gt $gte $lt $lte on numbers and on strings', () => {
    expect(holds({ 'data.amount': { $gt: 1499 } }, invoice)).toBe(true);
    expect(holds({ 'data.amount': { $gt: 1500 } }, invoice)).toBe(false);
    expect(holds({ 'data.amount': { $gte: 1500, $lte: 1500 } }, invoice)).toBe(true);
    expect(holds({ 'data.amount': { $lt: 1500 } }, invoice)).toBe(false);
    expect(holds({ 'data.currency': { $gte: 'EUR', $lt: 'F' } }, invoice)).toBe(true);
  });

  it('does not compare across types, nor a missing value', () => {
    expect(holds({ 'data.amount': { $gt: '1000' } }, invoice)).toBe(false);
    expect(holds({ 'data.currency': { $gt: 1 } }, invoice)).toBe(false);
    expect(holds({ 'data.nothing': { $lt: 10 } }, invoice)).toBe(false);
    expect(holds({ note: { $gte: 0 } }, invoice)).toBe(false);
    expect(run({ 'data.amount': { $gt: '1000' } }, invoice).reason).toBe('data.amount: 1500 does not satisfy $gt "1000"');
  });

  it('$in and $nin', () => {
    expect(holds({ 'data.currency': { $in: ['USD', 'EUR'] } }, invoice)).toBe(true);
    expect(holds({ 'data.currency': { $in: ['USD'] } }, invoice)).toBe(false);
    expect(holds({ 'data.currency': { $nin: ['USD'] } }, invoice)).toBe(true);
    expect(holds({ 'data.currency': { $nin: ['EUR'] } }, invoice)).toBe(false);
    expect(holds({ 'data.nothing': { $nin: ['EUR'] } }, invoice)).toBe(true);
    expect(holds({ 'data.nothing': { $in: ['EUR'] } }, invoice)).toBe(false);
  });

  it('$exists', () => {
    expect(holds({ 'data.customer.email': { $exists: true } }, invoice)).toBe(true);
    expect(holds({ 'data.customer.phone': { $exists: true } }, invoice)).toBe(false);
    expect(holds({ 'data.customer.phone': { $exists: false } }, invoice)).toBe(true);
    expect(holds({ note: { $exists: true } }, invoice)).toBe(true); // null is present
  });

  it('$startsWith on strings only', () => {
    expect(holds({ 'data.customer.id': { $startsWith: 'cus_' } }, invoice)).toBe(true);
    expect(holds({ 'data.customer.id': { $startsWith: 'acct_' } }, invoice)).toBe(false);
    expect(holds({ 'data.amount': { $startsWith: '15' } }, invoice)).toBe(false);
  });

  it('arrays: any element satisfies, number segments index, objects in arrays are searched', () => {
    expect(holds({ 'data.tags': 'vip' }, invoice)).toBe(true);
    expect(holds({ 'data.tags': { $in: ['x', 'eu'] } }, invoice)).toBe(true);
    expect(holds({ 'data.tags': { $neq: 'vip' } }, invoice)).toBe(false);
    expect(holds({ 'data.lines.sku': 'B' }, invoice)).toBe(true);
    expect(holds({ 'data.lines.1.sku': 'B' }, invoice)).toBe(true);
    expect(holds({ 'data.lines.0.sku': 'B' }, invoice)).toBe(false);
    expect(holds({ 'data.lines.5.sku': { $exists: true } }, invoice)).toBe(false);
  });

  it('$and, $or, $not, with the failing clause as the reason', () => {
    expect(holds({ $or: [{ 'data.currency': 'USD' }, { 'data.amount': { $gte: 1000 } }] }, invoice)).toBe(true);
    expect(holds({ $and: [{ 'data.currency': 'EUR' }, { 'data.amount': { $gte: 2000 } }] }, invoice)).toBe(false);
    expect(holds({ $not: { 'data.currency': 'USD' } }, invoice)).toBe(true);
    expect(holds({ data: { $not: { currency: 'EUR' } } }, invoice)).toBe(false);
    expect(run({ $and: [{ 'data.currency': 'EUR' }, { 'data.amount': { $gte: 2000 } }] }, invoice).reason).toBe('data.amount: 1500 does not satisfy $gte 2000');
    expect(run({ $or: [{ live: false }, { note: 1 }] }, invoice).reason).toMatch(/^filter\.\$or: no alternative holds \(live: true does not satisfy \$eq false; note: null does not satisfy \$eq 1\)$/);
  });

  it('$eventType tests the event type, also inside logical operators', () => {
    expect(holds({ $eventType: 'invoice.paid' }, invoice)).toBe(true);
    expect(holds({ $eventType: { $startsWith: 'user.' } }, invoice)).toBe(false);
    expect(holds({ $or: [{ $eventType: 'user.created' }, { live: true }] }, invoice)).toBe(true);
    expect(run({ $eventType: { $in: ['a', 'b'] } }, invoice).reason).toBe('eventType: "invoice.paid" does not satisfy $in ["a","b"]');
  });

  it('a payload that is not an object has no paths', () => {
    expect(holds({ a: { $exists: false } }, undefined)).toBe(true);
    expect(holds({ a: 1 }, 'text')).toBe(false);
  });

  it('an empty filter holds; the reason is null when it does', () => {
    expect(run({}, invoice)).toEqual({ matches: true, reason: null });
  });

  describe('validation', () => {
    const problem = (filter: unknown) => {
      const result = compileFilter(filter);
      return result.ok ? null : `${result.path}: ${result.message}`;
    };

    it('names an unknown operator and its path', () => {
      expect(problem({ data: { amount: { $gte: 1, $between: [1, 2] } } })).toBe('filter.data.amount.$between: unknown operator $between');
      expect(problem({ $nor: [] })).toBe('filter.$nor: unknown operator $nor');
    });

    it('checks operands', () => {
      expect(problem({ a: { $in: 'x' } })).toBe('filter.a.$in: $in takes an array');
      expect(problem({ a: { $gt: true } })).toBe('filter.a.$gt: $gt takes a number or a string');
      expect(problem({ a: { $exists: 1 } })).toBe('filter.a.$exists: $exists takes true or false');
      expect(problem({ a: { $startsWith: 1 } })).toBe('filter.a.$startsWith: $startsWith takes a string');
      expect(problem({ $and: [] })).toBe('filter.$and: $and takes a non-empty array of filter objects');
      expect(problem({ $or: [1] })).toBe('filter.$or.0: $or takes filter objects');
      expect(problem({ $not: [] })).toBe('filter.$not: $not takes a filter object');
      expect(problem({ $gt: 1 })).toMatch(/^filter\.\$gt: \$gt needs a field/);
      expect(problem({ a: { $gt: 1, b: 2 } })).toMatch(/^filter\.a: mixes operators and field names/);
      expect(problem({ 'a..b': 1 })).toBe('filter.a..b: empty path segment');
      expect(problem({ a: { $eventType: 'x' } })).toMatch(/\$eventType is allowed only at the top/);
      expect(problem([])).toBe('filter: a filter must be a JSON object');
    });

    it('limits size, depth and clauses', () => {
      expect(problem({ a: 'x'.repeat(FILTER_LIMITS.maxBytes) })).toMatch(/at most 8192 bytes/);
      let deep: Record<string, unknown> = { z: 1 };
      for (let i = 0; i < FILTER_LIMITS.maxDepth; i++) deep = { n: deep };
      expect(problem(deep)).toMatch(/nests at most 8 levels/);
      const wide = Object.fromEntries(Array.from({ length: FILTER_LIMITS.maxNodes + 1 }, (_, i) => [`k${i}`, 1]));
      expect(problem(wide)).toMatch(/at most 256 clauses/);
      expect(problem({ a: { $in: Array.from({ length: 300 }, (_, i) => i) } })).toMatch(/at most 256 values/);
    });
  });
});
