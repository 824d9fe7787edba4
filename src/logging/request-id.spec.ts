import { requestIdFrom } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it("keeps a caller's sane id", () => {
    for (const id of ['3f1c2a9e-6f0b-4a3c-9d1e-0c2b7a6e5f41', '01JD8X3Q6Y4M2N7P9R1S5T8V0W', 'Root=1-67891233-abcdef012345678912345678', 'req_42']) expect(requestIdFrom(id)).toBe(id);
  });

  it('makes a new one when it is missing, repeated, too long or has other characters', () => {
    for (const header of [undefined, '', ['a', 'b'], 'x'.repeat(129), 'a b', 'a\nb', '{"level":"fatal"}', 'é']) expect(requestIdFrom(header)).toMatch(UUID);
  });
});
