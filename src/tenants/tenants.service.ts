import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { Page, PageQuery, decodeCursor, toPage } from '../common/pagination';
import { CreateTenantDto, TenantView, UpdateTenantDto } from './dto/tenant.dto';
import { adminOnlyFieldsIn } from './tenant-access';
import { TenantChange, TenantChanges } from './tenant-changes';
import { Tenant } from './tenant.entity';

const CACHE_TTL_MS = 5000;

@Injectable()
export class TenantsService {
  // Every tenant route resolves its tenant first; a short cache keeps that off the database on hot paths.
  private readonly cache = new Map<string, { tenant: Tenant; at: number }>();

  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    private readonly changes: TenantChanges,
  ) {
    changes.listen((change) => this.forgetLocally(change));
  }

  async create(dto: CreateTenantDto): Promise<TenantView> {
    if (dto.uid && (await this.tenants.existsBy({ uid: dto.uid }))) throw new ConflictError(`a tenant with uid "${dto.uid}" exists`, 'uid');
    const tenant = this.tenants.create({
      id: newId('tnt'),
      name: dto.name,
      uid: dto.uid ?? null,
      metadata: dto.metadata ?? {},
      publishRateLimitPerSecond: dto.publishRateLimitPerSecond ?? null,
      endpointRateLimitPerSecond: dto.endpointRateLimitPerSecond ?? null,
    });
    try {
      await this.tenants.save(tenant);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictError(`a tenant with uid "${dto.uid}" exists`, 'uid');
      throw error;
    }
    return TenantView.of(await this.tenants.findOneByOrFail({ id: tenant.id }));
  }

  async list(query: PageQuery): Promise<Page<TenantView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const qb = this.tenants.createQueryBuilder('t').orderBy('t.id', 'DESC').take(limit + 1);
    if (before) qb.where('t.id < :before', { before });
    return toPage(await qb.getMany(), limit, TenantView.of);
  }

  /** Finds a tenant by id or by its uid. */
  async resolve(idOrUid: string): Promise<Tenant> {
    const hit = this.cache.get(idOrUid);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.tenant;
    const tenant = idOrUid.startsWith('tnt_') ? await this.tenants.findOneBy({ id: idOrUid }) : await this.tenants.findOneBy({ uid: idOrUid });
    if (!tenant) throw new NotFoundError('tenant', idOrUid);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(idOrUid, { tenant, at: Date.now() });
    return tenant;
  }

  /** `byAdmin`: false for the tenant's own key, which may not write the admin-only fields (403 naming them, nothing changed). */
  async update(tenant: Tenant, dto: UpdateTenantDto, byAdmin: boolean): Promise<TenantView> {
    const forbidden = byAdmin ? [] : adminOnlyFieldsIn(dto);
    if (forbidden.length) {
      const error = new ForbiddenError(`${forbidden.join(', ')} may be changed only with the admin key`);
      error.details = forbidden.map((field) => ({ field, message: `${field} may be changed only with the admin key` }));
      throw error;
    }
    const changes: Partial<Tenant> = { updatedAt: new Date() };
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.uid !== undefined) changes.uid = dto.uid;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata;
    if (dto.publishRateLimitPerSecond !== undefined) changes.publishRateLimitPerSecond = dto.publishRateLimitPerSecond;
    if (dto.endpointRateLimitPerSecond !== undefined) changes.endpointRateLimitPerSecond = dto.endpointRateLimitPerSecond;
    try {
      await this.tenants.save({ ...tenant, ...changes });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictError(`a tenant with uid "${dto.uid}" exists`, 'uid');
      throw error;
    }
    await this.changes.changed(tenant);
    return TenantView.of(await this.tenants.findOneByOrFail({ id: tenant.id }));
  }

  async remove(tenant: Tenant): Promise<void> {
    // Endpoints, events and keys go with it (ON DELETE CASCADE). Deliveries and attempts have no foreign key (they are
    // partitioned, and retention drops their partitions without checking references), so they go here, in one commit.
    await this.tenants.manager.transaction(async (tx) => {
      await tx.query(`DELETE FROM attempts WHERE endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = $1)`, [tenant.id]);
      await tx.query(`DELETE FROM deliveries WHERE tenant_id = $1`, [tenant.id]);
      await tx.delete(Tenant, { id: tenant.id });
    });
    await this.changes.changed(tenant);
  }

  /** Every entry of the tenant goes, under its id, its uid and any uid it had before. */
  private forgetLocally(change: TenantChange): void {
    if (change === 'all') return this.cache.clear();
    for (const [key, entry] of this.cache) if (entry.tenant.id === change.tenantId) this.cache.delete(key);
    if (change.uid) this.cache.delete(change.uid);
  }
}
