import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';
import { VerifierType } from './verifiers';

/** The verifier's settings that may be shown (header name, algorithm…); never a secret or credential. */
export type VerifierSettings = Record<string, string>;

/** Receives one third party's webhooks for a tenant, at /in/{id}. */
@Entity('sources')
@Index('sources_tenant_id_id_idx', ['tenantId', 'id'])
export class Source {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  /** Used when the provider names no event type; null means `<name>.received`. */
  @Column({ name: 'event_type', type: 'varchar', length: 128, nullable: true })
  eventType: string | null;

  @Column({ name: 'verifier_type', type: 'varchar', length: 32 })
  verifierType: VerifierType;

  @Column({ name: 'verifier_settings', type: 'jsonb', default: () => "'{}'" })
  verifierSettings: VerifierSettings;

  /** The whole verifier config (with its secret or credentials) as JSON, AES-256-GCM sealed. */
  @Column({ name: 'verifier_sealed', type: 'text' })
  verifierSealed: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
