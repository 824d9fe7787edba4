import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../common/errors';
import { safeEqual } from '../common/secrets';
import { TenantsService } from '../tenants/tenants.service';
import { isPortalToken, RouteRequirement } from '../portal/capabilities';
import { PortalSessionsService } from '../portal/portal-sessions.service';
import { ACCESS, Access, AuthedRequest, CAPABILITY } from './auth.decorators';
import { ApiKeysService } from './api-keys.service';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly tenants: TenantsService,
    private readonly portal: PortalSessionsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & AuthedRequest>();

    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError('missing bearer key: send Authorization: Bearer <key>');
    const key = match[1];

    if (safeEqual(key, this.config.adminKey)) {
      request.principal = { kind: 'admin' };
    } else if (isPortalToken(key)) {
      request.principal = await this.portal.authenticate(key);
    } else {
      const tenantId = await this.keys.tenantOf(key);
      if (!tenantId) throw new UnauthorizedError('the key is not valid');
      request.principal = { kind: 'tenant', tenantId };
    }

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
