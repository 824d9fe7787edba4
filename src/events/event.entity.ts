import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';

// Partitioned by range of id, a partition a day (migration TimePartitions1795690000000, src/database/partitions.ts).
@Entity('events')
@Index('events_tenant_id_id_idx', ['tenantId', 'id'])
// Lookups only: uniqueness of a key lives in event_idempotency_keys (events is partitioned; see EventIdempotencyKey).
@Index('events_tenant_idempotency_key', ['tenantId', 'idempotencyKey'], { where: 'idempotency_key IS NOT NULL' })
@Index('events_created_at_idx', ['createdAt'])
export class HeraldEvent {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @Column({ name: 'event_type', type: 'varchar', length: 128 })
  eventType: string;

  /** The exact bytes that are signed and sent: serialised once at publish time, never re-serialised. */
  @Column({ type: 'text' })
  payload: string;

  /** Delivered only to endpoints with a channel in common, or with no channels; null: to every endpoint. */
  @Column({ type: 'text', array: true, nullable: true })
  channels: string[] | null;

  /** Cleared after 24 h, so the key may be used again. */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 256, nullable: true })
  idempotencyKey: string | null;

  /** Sender headers kept from an inbound request, forwarded as x-herald-source-*. */
  @Column({ name: 'source_headers', type: 'jsonb', nullable: true })
  sourceHeaders: Record<string, string> | null;

  /** The publish request's W3C traceparent (ids only), so attempts join its trace; null when tracing was off. */
  @Column({ name: 'trace_context', type: 'varchar', length: 55, nullable: true })
  traceContext: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
