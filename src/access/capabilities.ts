/** What a portal link may do. `read` covers every read route; the others each unlock a kind of write. */
export const CAPABILITIES = ['read', 'manage-endpoints', 'view-secrets', 'rotate-secrets', 'resend'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What a route asks of a portal token: a capability, or `never` (publishing, keys, sources writes, portal links). */
export type RouteCapability = Capability | 'never';

export interface RouteRequirement {
  capability: RouteCapability;
  /** A token limited to some endpoints may not use the route at all (tenant-wide data such as sources). */
  wholeTenant?: boolean;
}

export type PortalRefusal = 'never' | 'missing-capability' | 'whole-tenant' | null;

/** Whether a portal token with these capabilities and scope may use a route with this requirement. Pure. */
export function portalRefusal(granted: readonly Capability[], scopedToEndpoints: boolean, required: RouteRequirement | undefined): PortalRefusal {
  // A route that declares nothing is closed to portal tokens: forgetting the decorator must not open it.
  if (!required || required.capability === 'never') return 'never';
  if (!granted.includes(required.capability)) return 'missing-capability';
  if (required.wholeTenant && scopedToEndpoints) return 'whole-tenant';
  return null;
}
