import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';

/**
 * An idempotency key in use: at most one event per tenant and key. Its own table because events is partitioned
 * by id, and a unique index on a partitioned table must contain the partition key. A key older than 24 h is
 * released (its row deleted, the event's idempotency_key cleared) when it is used again.
 */
@Entity('event_idempotency_keys')
@Index('event_idempotency_keys_created_at_idx', ['createdAt'])
export class EventIdempotencyKey {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 40, primaryKeyConstraintName: 'PK_event_idempotency_keys' })
  tenantId: string;

  @PrimaryColumn({ type: 'varchar', length: 256, primaryKeyConstraintName: 'PK_event_idempotency_keys' })
  key: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'FK_event_idempotency_keys_tenant' })
  tenant?: Tenant;

  @Column({ name: 'event_id', type: 'varchar', length: 40 })
  eventId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
