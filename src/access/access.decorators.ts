import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import { ApiBearerAuth, ApiParam } from '@nestjs/swagger';
import type { Capability as PortalCapability, RouteCapability, RouteRequirement } from './capabilities';

export type Access = 'public' | 'admin' | 'tenant';
export const ACCESS = 'herald:access';

export interface Principal {
  kind: 'admin' | 'tenant' | 'portal';
  tenantId?: string;
  /** A portal link's own grant (src/portal). */
  portal?: { sessionId: string; capabilities: PortalCapability[]; endpointIds: string[] | null; expiresAt: Date };
}

/** Routes that need no key: health, metrics, docs, inbound. */
export const Public = () => SetMetadata(ACCESS, 'public');

/** Only the admin key. */
export const AdminOnly = () => (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
  SetMetadata(ACCESS, 'admin')(target, key!, descriptor!);
  ApiBearerAuth()(target, key!, descriptor!);
};

/** A route under /v1/tenants/{tenantId}: the admin key, or that tenant's own key. */
export const TenantRoute = () => (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
  SetMetadata(ACCESS, 'tenant')(target, key!, descriptor!);
  ApiBearerAuth()(target, key!, descriptor!);
  ApiParam({ name: 'tenantId', description: 'the tenant id (tnt_…) or its uid' })(target, key!, descriptor!);
};

export const CAPABILITY = 'herald:capability';

/**
 * What a portal token needs for this route (next to @TenantRoute on every tenant route): `read`, a write
 * capability, or `never`. A route without it is closed to portal tokens. `wholeTenant`: not for a link
 * limited to some endpoints.
 */
export const Capability = (capability: RouteCapability, options: { wholeTenant?: boolean } = {}) =>
  SetMetadata(CAPABILITY, { capability, ...options } satisfies RouteRequirement);

/**
 * The tenant a route's path names, as the AuthGuard resolved it (a Tenant entity: this module sits below
 * `tenants`, so it names only what it reads).
 */
export interface RouteTenant {
  id: string;
}

export interface AuthedRequest {
  principal?: Principal;
  tenant?: RouteTenant;
}

/** The tenant the path names, resolved and authorised by the AuthGuard. */
export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): RouteTenant => {
  const tenant = ctx.switchToHttp().getRequest<AuthedRequest>().tenant;
  if (!tenant) throw new Error('CurrentTenant used on a route without @TenantRoute()');
  return tenant;
});

/** Who is calling: the admin key, or a tenant key (set by the AuthGuard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});
