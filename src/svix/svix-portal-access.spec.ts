import { svixPortalGrant, svixRouteCapability } from './svix-portal-access';

describe('svixRouteCapability', () => {
  it.each([
    ['GET', '/api/v1/app/:appId', 'read'],
    ['GET', '/api/v1/app/:appId/endpoint', 'read'],
    ['GET', '/api/v1/app/:appId/endpoint/:endpointId/stats', 'read'],
    ['GET', '/api/v1/app/:appId/msg', 'read'],
    ['GET', '/api/v1/app/:appId/attempt/endpoint/:endpointId', 'read'],
    ['GET', '/api/v1/app/:appId/endpoint/:endpointId/secret', 'view-secrets'],
    ['POST', '/api/v1/app/:appId/endpoint/:endpointId/secret/rotate', 'rotate-secrets'],
    ['POST', '/api/v1/app/:appId/endpoint/:endpointId/recover', 'resend'],
    ['POST', '/api/v1/app/:appId/msg/:msgId/endpoint/:endpointId/resend', 'resend'],
    ['POST', '/api/v1/app/:appId/endpoint', 'manage-endpoints'],
    ['PUT', '/api/v1/app/:appId/endpoint/:endpointId', 'manage-endpoints'],
    ['PATCH', '/api/v1/app/:appId/endpoint/:endpointId/headers', 'manage-endpoints'],
    ['DELETE', '/api/v1/app/:appId/endpoint/:endpointId', 'manage-endpoints'],
    ['POST', '/api/v1/app/:appId/endpoint/:endpointId/send-example', 'manage-endpoints'],
    ['POST', '/api/v1/app/:appId/msg', 'never'],
    ['DELETE', '/api/v1/app/:appId/msg/:msgId/content', 'never'],
    ['PUT', '/api/v1/app/:appId', 'never'],
    ['DELETE', '/api/v1/app/:appId', 'never'],
    ['POST', '/api/v1/app', 'never'],
    ['GET', '/api/v1/event-type', 'read'],
    ['POST', '/api/v1/event-type', 'never'],
    ['POST', '/api/v1/auth/app-portal-access/:appId', 'never'],
    ['POST', '/api/v1/auth/app/:appId/expire-all', 'never'],
  ])('%s %s needs %s', (method, route, expected) => {
    expect(svixRouteCapability(method, route)).toBe(expected);
  });
});

describe('svixPortalGrant', () => {
  it('gives what Svix\'s app portal allows by default, and only reads when read-only', () => {
    expect(svixPortalGrant(undefined, undefined)).toEqual(['read', 'manage-endpoints', 'view-secrets', 'rotate-secrets', 'resend']);
    expect(svixPortalGrant(null, true)).toEqual(['read']);
    expect(svixPortalGrant(['ViewEndpointSecret', 'ManageEndpoint'], true)).toEqual(['read', 'view-secrets']);
  });
  it('maps Svix capabilities, always with read', () => {
    expect(svixPortalGrant(['ViewEndpointSecret', 'CreateAttempts'], false)).toEqual(['read', 'view-secrets', 'resend']);
    expect(svixPortalGrant(['ManageEndpoint', 'ManageTransformations'], null)).toEqual(['read', 'manage-endpoints']);
    expect(svixPortalGrant(['ManageEndpoint'], true)).toEqual(['read']);
  });
});
