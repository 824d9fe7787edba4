import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { Tenant } from '../tenants/tenant.entity';
import { TenantsService } from '../tenants/tenants.service';
import { ApplicationIn, ApplicationPatchIn } from './dto/svix-inputs.dto';
import { SvixPrincipal, requireAdmin } from './svix-auth';
import { SvixListRequest, SvixListResponse, afterOperator, toSvixList } from './svix-list';
import { applicationOut } from './svix-views';

type ApplicationOut = ReturnType<typeof applicationOut>;

/** Svix applications are Herald tenants: `throttleRate`/`rateLimit` is the default rate of their endpoints. */
@Injectable()
export class SvixApplications {
  constructor(
    private readonly tenants: TenantsService,
    @InjectRepository(Tenant) private readonly rows: Repository<Tenant>,
  ) {}

  /** The application a path names (id or uid), as the principal may see it: another tenant's looks missing. */
  async resolve(principal: SvixPrincipal, idOrUid: string): Promise<Tenant> {
    const tenant = await this.tenants.resolve(idOrUid).catch(() => null);
    if (!tenant || (principal.kind === 'tenant' && principal.tenantId !== tenant.id)) throw new NotFoundError('application', idOrUid);
    return tenant;
  }

  /** The application, or null when it does not exist (for inline upserts). */
  async find(principal: SvixPrincipal, idOrUid: string): Promise<Tenant | null> {
    return this.resolve(principal, idOrUid).catch((error) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
  }

  async create(principal: SvixPrincipal, body: ApplicationIn, getIfExists = false): Promise<{ created: boolean; app: ApplicationOut }> {
    requireAdmin(principal);
    if (getIfExists && body.uid) {
      const existing = await this.find(principal, body.uid);
      if (existing) return { created: false, app: applicationOut(existing) };
    }
    const view = await this.tenants.create({
      name: body.name,
      uid: body.uid ?? undefined,
      metadata: body.metadata,
      endpointRateLimitPerSecond: body.throttleRate ?? body.rateLimit ?? null,
    });
    return { created: true, app: applicationOut(await this.rows.findOneByOrFail({ id: view.id })) };
  }

  /** The application named by a path, created from `body` first when missing (messages and portal access do this). */
  async upsert(principal: SvixPrincipal, idOrUid: string, body: ApplicationIn | null | undefined): Promise<Tenant> {
    const existing = await this.find(principal, idOrUid);
    if (existing || !body) return existing ?? this.resolve(principal, idOrUid);
    const { app } = await this.create(principal, { ...body, uid: body.uid ?? idOrUid }, true);
    return this.rows.findOneByOrFail({ id: app.id });
  }

  async list(principal: SvixPrincipal, request: SvixListRequest): Promise<SvixListResponse<ApplicationOut>> {
    requireAdmin(principal);
    const qb = this.rows
      .createQueryBuilder('t')
      .orderBy('t.id', request.direction)
      .take(request.limit + 1);
    if (request.from) qb.where(`t.id ${afterOperator(request)} :from`, { from: request.from });
    return toSvixList(await qb.getMany(), request, (t) => t.id, applicationOut);
  }

  async update(principal: SvixPrincipal, idOrUid: string, body: ApplicationPatchIn, replace: boolean): Promise<ApplicationOut> {
    const tenant = await this.resolve(principal, idOrUid);
    const rate = body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
    await this.tenants.update(tenant, {
      name: body.name,
      uid: replace ? (body.uid ?? null) : body.uid,
      metadata: replace ? (body.metadata ?? {}) : body.metadata,
      endpointRateLimitPerSecond: replace ? (rate ?? null) : rate,
    }, principal.kind === 'admin');
    return applicationOut(await this.rows.findOneByOrFail({ id: tenant.id }));
  }

  async remove(principal: SvixPrincipal, idOrUid: string): Promise<void> {
    const tenant = await this.resolve(principal, idOrUid);
    await this.tenants.remove(tenant);
  }
}
