import { Inject, Injectable } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { UnauthorizedError } from '../common/errors';
import { safeEqual } from '../common/secrets';
import { Principal } from '../access/access.decorators';
import { isPortalToken } from '../portal/portal-token';
import { PortalSessionsService } from '../portal/portal-sessions.service';
import { ApiKeysService } from './api-keys.service';

/** Who a bearer key belongs to: the admin, a tenant, a portal link (scoped to a tenant), or nobody (401). */
@Injectable()
export class Authenticator {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly portal: PortalSessionsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async principalOf(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError('missing bearer key: send Authorization: Bearer <key>');
    const key = match[1];
    if (safeEqual(key, this.config.adminKey)) return { kind: 'admin' };
    if (isPortalToken(key)) return this.portal.authenticate(key);
    const tenantId = await this.keys.tenantOf(key);
    if (!tenantId) throw new UnauthorizedError('the key is not valid');
    return { kind: 'tenant', tenantId };
  }
}
