import { adminOnlyFieldsIn } from './tenant-access';

describe('adminOnlyFieldsIn', () => {
  it('names every admin-only field present, null included', () => {
    expect(adminOnlyFieldsIn({ uid: 'x', publishRateLimitPerSecond: null, metadata: {} })).toEqual(['uid', 'publishRateLimitPerSecond', 'metadata']);
  });

  it('lets the name through', () => {
    expect(adminOnlyFieldsIn({ name: 'Acme' })).toEqual([]);
    expect(adminOnlyFieldsIn({})).toEqual([]);
  });
});
