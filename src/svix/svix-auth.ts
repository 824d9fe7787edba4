import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Authenticator } from '../auth/authenticator';
import { DomainError } from '../common/errors';
import { portalRefusal } from '../access/capabilities';
import { SvixHttpError } from './svix-errors';
import { svixRouteCapability } from './svix-portal-access';

/** Who calls /api/v1: the admin key (every application), or one tenant (its key, or a portal link's token). */
export type SvixPrincipal = { kind: 'admin' } | { kind: 'tenant'; tenantId: string };

interface SvixRequest {
  svixPrincipal?: SvixPrincipal;
}

/** The idempotency store keeps answers per principal: this is its name for one. */
export function principalKey(principal: SvixPrincipal): string {
  return principal.kind === 'admin' ? 'admin' : `tenant:${principal.tenantId}`;
}

/**
 * Authenticates /api/v1 as Svix does (`Authorization: Bearer <token>`), with Svix's error bodies.
 * The routes are @Public() for Herald's own guard; this guard, bound to the Svix controllers, takes over.
 */
@Injectable()
export class SvixAuthGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & SvixRequest>();
    if (!/^Bearer\s+\S+\s*$/i.test(request.headers.authorization ?? '')) throw new SvixHttpError(401, 'authentication_failed', 'missing bearer token: send Authorization: Bearer <token>');
    // The same keys as Herald's own API: the admin key, a tenant key, or a portal link (hpt_…), revocable at once.
    const principal = await this.authenticator.principalOf(request.headers.authorization).catch((error: unknown) => {
      if (error instanceof DomainError && error.status === 401) throw new SvixHttpError(401, 'authentication_failed', error.message);
      throw error;
    });
    if (principal.kind === 'admin') {
      request.svixPrincipal = { kind: 'admin' };
      return true;
    }
    if (principal.portal) {
      // A link limited to some endpoints has no Svix counterpart: /api/v1 works on whole applications.
      const refusal = portalRefusal(principal.portal.capabilities, principal.portal.endpointIds !== null, {
        capability: svixRouteCapability(request.method, request.routeOptions.url ?? ''),
        wholeTenant: true,
      });
      if (refusal === 'missing-capability') throw new SvixHttpError(403, 'insufficient access', 'this portal link does not allow this route');
      if (refusal) throw new SvixHttpError(403, 'insufficient access', refusal === 'whole-tenant' ? 'this portal link is limited to some endpoints; /api/v1 needs one for the whole application' : 'portal links cannot use this route');
    }
    request.svixPrincipal = { kind: 'tenant', tenantId: principal.tenantId! };
    return true;
  }
}

export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): SvixPrincipal => {
  const principal = ctx.switchToHttp().getRequest<SvixRequest>().svixPrincipal;
  if (!principal) throw new Error('Principal used outside the Svix controllers');
  return principal;
});

/** Routes only the admin key may use (the organisation-wide ones: applications, event types). */
export function requireAdmin(principal: SvixPrincipal): void {
  if (principal.kind !== 'admin') throw new SvixHttpError(403, 'insufficient access', 'this route needs the admin key');
}
