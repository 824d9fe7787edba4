import { mustValidate } from './event-payload-validator';

describe('mustValidate', () => {
  const schema = { type: 'object' };
  it('checks a type with a schema when it asks to, or when every type is checked', () => {
    expect(mustValidate({ schema, validate: true }, false)).toBe(true);
    expect(mustValidate({ schema, validate: false }, true)).toBe(true);
    expect(mustValidate({ schema, validate: false }, false)).toBe(false);
  });
  it('never checks a type without a schema, nor one not in the catalog', () => {
    expect(mustValidate({ schema: null, validate: true }, true)).toBe(false);
    expect(mustValidate(null, true)).toBe(false);
  });
});
