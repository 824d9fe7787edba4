import { compileSchema, schemaProblem } from './json-schema';

describe('compileSchema', () => {
  const invoice = {
    type: 'object',
    required: ['id', 'amount'],
    properties: { id: { type: 'string' }, amount: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
  };

  it('accepts a valid value', () => {
    expect(compileSchema(invoice)({ id: 'in_1', amount: 5 })).toEqual([]);
  });

  it('lists every problem with its JSON pointer', () => {
    expect(compileSchema(invoice)({ amount: -1, email: 'nope' })).toEqual(
      expect.arrayContaining([
        { pointer: '/id', message: 'is required' },
        { pointer: '/amount', message: 'must be >= 0' },
        { pointer: '/email', message: 'must match format "email"' },
      ]),
    );
  });

  it('escapes pointer characters in a missing property name', () => {
    expect(compileSchema({ type: 'object', required: ['a/b'] })({})).toEqual([{ pointer: '/a~1b', message: 'is required' }]);
  });

  it('reads draft-07 tuples as draft-07 and prefixItems as 2020-12', () => {
    const draft07 = compileSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }] });
    expect(draft07(['a', 1])).toEqual([]);
    const draft2020 = compileSchema({ type: 'array', prefixItems: [{ type: 'string' }] });
    expect(draft2020([1])).toEqual([{ pointer: '/0', message: 'must be string' }]);
  });

  it('compiles the same $id twice', () => {
    const schema = { $id: 'https://example.com/invoice', type: 'object' };
    expect(compileSchema(schema)({})).toEqual([]);
    expect(compileSchema({ ...schema, required: ['x'] })({})).toHaveLength(1);
  });

  it('names what is wrong with a broken schema', () => {
    expect(schemaProblem({ type: 'nonsense' })).toMatch(/type/);
    expect(schemaProblem(invoice)).toBeNull();
  });
});
