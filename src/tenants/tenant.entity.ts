import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('tenants')
export class Tenant {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Index('tenants_uid_key', { unique: true })
  @Column({ type: 'varchar', length: 256, nullable: true })
  uid: string | null;

  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  @Column({ name: 'publish_rate_limit_per_second', type: 'integer', nullable: true })
  publishRateLimitPerSecond: number | null;

  /** Endpoints created without a rateLimitPerSecond get this one (Svix's application throttleRate). */
  @Column({ name: 'endpoint_rate_limit_per_second', type: 'integer', nullable: true })
  endpointRateLimitPerSecond: number | null;

  /**
   * Moves on with every change to the tenant's endpoints that fan-out depends on (a trigger on endpoints does
   * it, in the changing transaction): publishing checks its cached endpoint list against it in its own statement.
   */
  @Column({ name: 'endpoints_version', type: 'bigint', default: 0 })
  endpointsVersion: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
