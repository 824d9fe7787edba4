import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError } from '../common/errors';
import { TenantsService } from '../tenants/tenants.service';
import { RouteRequirement } from '../access/capabilities';
import { PortalSessionsService } from '../portal/portal-sessions.service';
import { ACCESS, Access, AuthedRequest, CAPABILITY } from '../access/access.decorators';
import { Authenticator } from './authenticator';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly tenants: TenantsService,
    private readonly portal: PortalSessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & AuthedRequest>();

    // Usually known already: the key is checked when the request arrives, before its body is read (bootstrap.ts).
    request.principal ??= await this.authenticator.principalOf(request.headers.authorization);

    if (access !== 'tenant' && request.principal.kind !== 'admin') throw new ForbiddenError('this route needs the admin key');
    if (request.principal.kind === 'portal') {
      const required = this.reflector.getAllAndOverride<RouteRequirement | undefined>(CAPABILITY, [context.getHandler(), context.getClass()]);
      await this.portal.authorize(request.principal, required, (request.params ?? {}) as Record<string, string>);
    }

    // Under /v1/tenants/{tenantId}: resolve the path's tenant; another tenant's path looks exactly like a missing one.
    const idOrUid = (request.params as Record<string, string> | undefined)?.tenantId;
    if (idOrUid === undefined) return true;
    const tenant = await this.tenants.resolve(idOrUid);
    if (request.principal.kind !== 'admin' && request.principal.tenantId !== tenant.id) throw new NotFoundError('tenant', idOrUid);
    request.tenant = tenant;
    return true;
  }
}
