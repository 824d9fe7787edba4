import { CanActivate, ExecutionContext, Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiKeysService } from '../auth/api-keys.service';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { safeEqual } from '../common/secrets';
import { PortalTokens } from './portal-tokens';
import { SvixHttpError } from './svix-errors';

/** Who calls /api/v1: the admin key (every application), or one tenant (its key, or a portal token). */
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
  constructor(
    private readonly keys: ApiKeysService,
    private readonly portal: PortalTokens,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & SvixRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new SvixHttpError(401, 'authentication_failed', 'missing bearer token: send Authorization: Bearer <token>');
    const token = match[1];
    if (safeEqual(token, this.config.adminKey)) {
      request.svixPrincipal = { kind: 'admin' };
      return true;
    }
    const tenantId = this.portal.verify(token) ?? (await this.keys.tenantOf(token));
    if (!tenantId) throw new SvixHttpError(401, 'authentication_failed', 'the token is not valid');
    request.svixPrincipal = { kind: 'tenant', tenantId };
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
