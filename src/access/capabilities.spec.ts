import { portalRefusal } from './capabilities';

describe('portalRefusal', () => {
  it('refuses routes that declare nothing or never', () => {
    expect(portalRefusal(['read', 'resend'], false, undefined)).toBe('never');
    expect(portalRefusal(['read', 'resend'], false, { capability: 'never' })).toBe('never');
  });

  it('needs the declared capability', () => {
    expect(portalRefusal(['read'], false, { capability: 'read' })).toBeNull();
    expect(portalRefusal(['read'], false, { capability: 'manage-endpoints' })).toBe('missing-capability');
    expect(portalRefusal(['read', 'view-secrets'], false, { capability: 'view-secrets' })).toBeNull();
    expect(portalRefusal(['resend'], false, { capability: 'read' })).toBe('missing-capability');
  });

  it('keeps endpoint-scoped tokens off tenant-wide routes', () => {
    expect(portalRefusal(['read'], true, { capability: 'read', wholeTenant: true })).toBe('whole-tenant');
    expect(portalRefusal(['read'], false, { capability: 'read', wholeTenant: true })).toBeNull();
    expect(portalRefusal(['read'], true, { capability: 'read' })).toBeNull();
  });
});
