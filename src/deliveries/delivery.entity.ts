import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { HeraldEvent } from '../events/event.entity';

export type DeliveryStatus = 'pending' | 'succeeded' | 'dead';
export type AttemptTrigger = 'initial' | 'retry' | 'manual';

// Partitioned by range of id, a partition a day: see migration TimePartitions1795690000000.
@Entity('deliveries')
@Index('deliveries_tenant_id_id_idx', ['tenantId', 'id'])
// Lists by status (the dead-letter queue, what is pending) newest first, without reading the tenant's other rows.
@Index('deliveries_tenant_status_id_idx', ['tenantId', 'status', 'id'])
@Index('deliveries_endpoint_id_id_idx', ['endpointId', 'id'])
@Index('deliveries_event_id_idx', ['eventId'])
@Index('deliveries_pending_due_idx', ['nextAttemptAt'], { where: "status = 'pending'" })
// Deliveries waiting behind a disabled endpoint, found again when it is enabled (or by the sweeper).
@Index('deliveries_parked_idx', ['endpointId'], { where: "status = 'pending' AND next_attempt_at IS NULL" })
// The dead-letter gauge (src/metrics/delivery-gauges.ts) counts dead deliveries per tenant and endpoint without a table scan.
@Index('deliveries_dead_idx', ['tenantId', 'endpointId'], { where: "status = 'dead'" })
// The stats API's pending and dead deliveries of an endpoint by creation (ids are time-sorted), without
// reading the succeeded ones (stats-series.ts): succeeded rows leave it, and the columns the stats read are
// in it, so the scan needs no table pages.
@Index('deliveries_unsettled_idx', ['endpointId', 'id', 'tenantId', 'status', 'createdAt', 'nextAttemptAt'], { where: "status <> 'succeeded'" })
// The pending deliveries of each ordered line (endpoint, key), by place: the claim and the sweeper find a line's head
// here (no pending delivery with a smaller ordering_seq), and a finished head's successor.
@Index('deliveries_line_waiting_idx', ['endpointId', 'orderingKey', 'orderingSeq'], { where: "status = 'pending' AND ordering_seq IS NOT NULL" })
export class Delivery {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @Column({ name: 'event_id', type: 'varchar', length: 40 })
  eventId: string;

  // No foreign key in the database (a partition of events could not be dropped without checking every delivery).
  @ManyToOne(() => HeraldEvent, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'event_id' })
  event?: HeraldEvent;

  @Column({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 128 })
  eventType: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DeliveryStatus;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount: number;

  /** When the next attempt is due; the sweeper re-enqueues pending rows overdue by more than its grace. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /**
   * Set while a worker runs this delivery's next attempt (from the claim until the attempt is recorded or
   * deferred): another run of the same attempt finds it claimed and drops its job. It lapses on its own
   * (the endpoint's timeout plus a margin) when that worker dies, and the sweeper offers it again.
   */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  /** A resend asked for while an attempt was in flight: a manual attempt follows as soon as it is recorded. */
  @Column({ name: 'resend_requested', type: 'boolean', default: false })
  resendRequested: boolean;

  /** What the next attempt will be logged as. */
  @Column({ name: 'next_trigger', type: 'varchar', length: 16, default: 'initial' })
  nextTrigger: AttemptTrigger;

  /** The event's orderingKey, when it had one (kept on every delivery of the event, ordered endpoint or not). */
  @Column({ name: 'ordering_key', type: 'varchar', length: 256, nullable: true })
  orderingKey: string | null;

  /**
   * The delivery's place in its line (endpoint, orderingKey), from ordering_lines.last_seq in the publishing
   * transaction; null when it is in no line (an unordered endpoint, an event without a key, or a delivery that
   * left its line when a finished one was resent or replayed). While a delivery of the same line with a smaller
   * place is pending, this one is not attempted.
   */
  @Column({ name: 'ordering_seq', type: 'bigint', nullable: true })
  orderingSeq: string | null;

  /** The event published just before this one in its line (what it waited for, if that was still pending). */
  @Column({ name: 'ordering_after', type: 'varchar', length: 40, nullable: true })
  orderingAfter: string | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
