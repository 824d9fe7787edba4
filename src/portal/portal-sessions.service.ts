import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThan, Repository } from 'typeorm';
import { Principal } from '../access/access.decorators';
import { ForbiddenError, InvalidInputError, NotFoundError, UnauthorizedError } from '../common/errors';
import { newId } from '../common/ids';
import { Page, PageQuery, decodeCursor, toPage } from '../common/pagination';
import { sha256Hex } from '../common/secrets';
import { Tenant } from '../tenants/tenant.entity';
import { RouteRequirement, portalRefusal } from '../access/capabilities';
import { PORTAL_LIFETIME, PORTAL_TOKEN_PREFIX } from './portal-token';
import { CreatePortalSessionDto, CreatedPortalSessionView, PortalSessionView } from './dto/portal-session.dto';
import { PortalSession } from './portal-session.entity';

function sessionView(s: PortalSession, now = new Date()): PortalSessionView {
  return {
    id: s.id,
    capabilities: s.capabilities,
    endpointIds: s.endpointIds,
    expiresAt: s.expiresAt.toISOString(),
    revokedAt: s.revokedAt?.toISOString() ?? null,
    active: !s.revokedAt && s.expiresAt > now,
    createdAt: s.createdAt.toISOString(),
  };
}

const REFUSALS = {
  never: 'portal links cannot use this route',
  'missing-capability': (c: string) => `this portal link lacks the "${c}" capability`,
  'whole-tenant': 'this portal link is limited to some endpoints; this route covers the whole tenant',
};

/** Portal links: short-lived, hashed, revocable tokens that open the console for a tenant's customer. */
@Injectable()
export class PortalSessionsService {
  constructor(
    @InjectRepository(PortalSession) private readonly sessions: Repository<PortalSession>,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async create(tenant: Tenant, dto: CreatePortalSessionDto, consoleUrl: string): Promise<CreatedPortalSessionView> {
    const endpointIds = dto.endpointIds?.length ? dto.endpointIds : null;
    if (endpointIds) {
      const found: { id: string }[] = await this.db.query(`SELECT id FROM endpoints WHERE tenant_id = $1 AND id = ANY($2) AND deleted_at IS NULL`, [tenant.id, endpointIds]);
      const missing = endpointIds.filter((id) => !found.some((f) => f.id === id));
      if (missing.length) throw InvalidInputError.field('endpointIds', `no such endpoint in this tenant: ${missing.join(', ')}`);
    }
    const token = `${PORTAL_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = new Date();
    const row = this.sessions.create({
      id: newId('ps'),
      tenantId: tenant.id,
      tokenHash: sha256Hex(token),
      capabilities: dto.capabilities?.length ? dto.capabilities : ['read'],
      endpointIds,
      expiresAt: new Date(now.getTime() + (dto.expiresInSeconds ?? PORTAL_LIFETIME.default) * 1000),
      revokedAt: null,
      createdAt: now,
    });
    await this.sessions.save(row);
    // The fragment is never sent to a server, so the token stays out of access logs and Referer headers.
    return { ...sessionView(row, now), url: `${consoleUrl}#token=${token}`, token };
  }

  async list(tenant: Tenant, query: PageQuery): Promise<Page<PortalSessionView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const rows = await this.sessions.find({
      where: { tenantId: tenant.id, ...(before ? { id: LessThan(before) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (r) => sessionView(r));
  }

  async revoke(tenant: Tenant, id: string): Promise<void> {
    const result = await this.sessions.update({ tenantId: tenant.id, id }, { revokedAt: () => 'coalesce(revoked_at, now())' });
    if (!result.affected) throw new NotFoundError('portal session', id);
  }

  /** Ends every active link of the tenant `inSeconds` from now (at once when 0); Svix's expire-all. Returns how many. */
  async expireAll(tenant: Tenant, inSeconds: number): Promise<number> {
    const [, n] = await this.db.query(
      `UPDATE portal_sessions SET expires_at = LEAST(expires_at, now() + make_interval(secs => $2)) WHERE tenant_id = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [tenant.id, inSeconds],
    );
    return n as number;
  }

  /** The principal a portal token stands for. Looked up on every request, so a revocation takes effect at once. */
  async authenticate(token: string): Promise<Principal> {
    const row = await this.sessions.findOneBy({ tokenHash: sha256Hex(token) });
    if (!row) throw new UnauthorizedError('the key is not valid');
    if (row.revokedAt) throw new UnauthorizedError('this portal link has been revoked');
    if (row.expiresAt <= new Date()) throw new UnauthorizedError('this portal link has expired');
    return {
      kind: 'portal',
      tenantId: row.tenantId,
      portal: { sessionId: row.id, capabilities: row.capabilities, endpointIds: row.endpointIds, expiresAt: row.expiresAt },
    };
  }

  /**
   * Whether a portal principal may use this route on these path parameters: the route's capability first,
   * then, for a link limited to some endpoints, the endpoint, delivery or event the path names
   * (anything outside the link answers 404, exactly as a missing one).
   */
  async authorize(principal: Principal, required: RouteRequirement | undefined, params: Record<string, string>): Promise<void> {
    const portal = principal.portal!;
    const scope = portal.endpointIds;
    const refusal = portalRefusal(portal.capabilities, scope !== null, required);
    if (refusal === 'missing-capability') throw new ForbiddenError(REFUSALS[refusal](required!.capability));
    if (refusal) throw new ForbiddenError(REFUSALS[refusal]);
    if (!scope) return;
    const tenantId = principal.tenantId!;
    if (params.endpointId !== undefined && !scope.includes(params.endpointId)) throw new NotFoundError('endpoint', params.endpointId);
    if (params.deliveryId !== undefined) {
      const rows: unknown[] = await this.db.query(`SELECT 1 FROM deliveries WHERE id = $1 AND tenant_id = $2 AND endpoint_id = ANY($3)`, [params.deliveryId, tenantId, scope]);
      if (!rows.length) throw new NotFoundError('delivery', params.deliveryId);
    }
    if (params.eventId !== undefined) {
      const rows: unknown[] = await this.db.query(`SELECT 1 FROM deliveries WHERE event_id = $1 AND tenant_id = $2 AND endpoint_id = ANY($3) LIMIT 1`, [params.eventId, tenantId, scope]);
      if (!rows.length) throw new NotFoundError('event', params.eventId);
    }
  }
}
