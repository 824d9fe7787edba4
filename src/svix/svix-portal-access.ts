import { CAPABILITIES, Capability, RouteCapability } from '../access/capabilities';

/**
 * What a portal link needs to use a route of /api/v1, from the route's method and pattern (Fastify's
 * `routeOptions.url`, e.g. `/api/v1/app/:appId/endpoint/:endpointId/secret`). Svix's app-portal tokens give the
 * application's customer its endpoints, secrets and resends; Herald's portal links carry the same grants as
 * capabilities. Anything not named here (publishing, applications, event types, deleting message content,
 * issuing more tokens) is closed to portal links: a new route stays closed until it is listed. Pure.
 */
export function svixRouteCapability(method: string, route: string): RouteCapability {
  const read = method === 'GET' || method === 'HEAD';
  const endpointRoute = /^\/api\/v1\/app\/:appId\/endpoint(\/|$)/.test(route);
  if (read) {
    if (endpointRoute && route.endsWith('/secret')) return 'view-secrets';
    // The event-type catalog too: a customer picks the types an endpoint subscribes to from it.
    if (/^\/api\/v1\/(app|event-type)(\/|$)/.test(route)) return 'read';
    return 'never';
  }
  if (method === 'POST' && route.endsWith('/secret/rotate')) return 'rotate-secrets';
  if (method === 'POST' && (route.endsWith('/recover') || route.endsWith('/resend'))) return 'resend';
  if (endpointRoute) return 'manage-endpoints';
  return 'never';
}

/** Svix's app-portal capabilities, as Herald's portal capabilities. */
export const SVIX_PORTAL_CAPABILITIES: Record<string, Capability> = {
  ViewBase: 'read',
  ViewEndpointSecret: 'view-secrets',
  ManageEndpointSecret: 'rotate-secrets',
  ManageTransformations: 'manage-endpoints',
  ManageEndpoint: 'manage-endpoints',
  CreateAttempts: 'resend',
};

/**
 * The grant of a link made through /api/v1: Svix's `capabilities` when given (reading is always allowed), else
 * everything Svix's app portal allows; `readOnly` keeps only what reads (secrets only when named). Pure.
 */
export function svixPortalGrant(capabilities: readonly string[] | null | undefined, readOnly: boolean | null | undefined): Capability[] {
  const granted = capabilities?.length ? new Set<Capability>(['read', ...capabilities.map((c) => SVIX_PORTAL_CAPABILITIES[c])]) : new Set<Capability>(CAPABILITIES);
  // Read-only reads secrets only when the capabilities ask for it by name.
  const reads: Capability[] = capabilities?.length ? ['read', 'view-secrets'] : ['read'];
  return CAPABILITIES.filter((c) => granted.has(c) && (!readOnly || reads.includes(c)));
}
