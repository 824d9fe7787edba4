import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';
import type { Capability } from '../access/capabilities';

/** A portal link: a short-lived bearer token for a tenant's customer. Only the token's SHA-256 is stored. */
@Entity('portal_sessions')
@Index('portal_sessions_tenant_id_id_idx', ['tenantId', 'id'])
export class PortalSession {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @Index('portal_sessions_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'varchar', array: true, length: 32 })
  capabilities: Capability[];

  /** null: every endpoint of the tenant. */
  @Column({ name: 'endpoint_ids', type: 'varchar', array: true, length: 40, nullable: true })
  endpointIds: string[] | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
