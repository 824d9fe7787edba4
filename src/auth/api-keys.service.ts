import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { newId } from '../common/ids';
import { sha256Hex } from '../common/secrets';
import { NotFoundError } from '../common/errors';
import { TenantChange, TenantChanges } from '../tenants/tenant-changes';
import { Tenant } from '../tenants/tenant.entity';
import { ApiKey } from './api-key.entity';

const CACHE_TTL_MS = 10_000;

@Injectable()
export class ApiKeysService {
  private readonly cache = new Map<string, { tenantId: string | null; at: number }>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly changes: TenantChanges,
  ) {
    // A deleted tenant's or a revoked key stops working in every process at once, not after the TTL.
    changes.listen((change) => this.forgetLocally(change));
  }

  /** Creates a key for the tenant. The key itself is returned once and never stored. */
  async create(tenant: Tenant): Promise<{ id: string; key: string; tenantId: string; createdAt: string }> {
    const key = `hk_${randomBytes(32).toString('base64url')}`;
    const row = this.keys.create({ id: newId('key'), tenantId: tenant.id, keyHash: sha256Hex(key) });
    await this.keys.save(row);
    return { id: row.id, key, tenantId: tenant.id, createdAt: new Date().toISOString() };
  }

  /** Revokes one of the tenant's keys: every process refuses it from the answer on. */
  async revoke(tenant: Tenant, keyId: string): Promise<void> {
    const { affected } = await this.keys.delete({ tenantId: tenant.id, id: keyId });
    if (!affected) throw new NotFoundError('api key', keyId);
    await this.changes.changed(tenant);
  }

  /** The tenant a key belongs to, or null for an unknown key. Looked up by hash: no secret comparison in code. */
  async tenantOf(key: string): Promise<string | null> {
    const hash = sha256Hex(key);
    const hit = this.cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.tenantId;
    const row = await this.keys.findOneBy({ keyHash: hash });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { tenantId: row?.tenantId ?? null, at: Date.now() });
    return row?.tenantId ?? null;
  }

  private forgetLocally(change: TenantChange): void {
    if (change === 'all') return this.cache.clear();
    for (const [hash, entry] of this.cache) if (entry.tenantId === change.tenantId) this.cache.delete(hash);
  }
}
