import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AttemptTrigger, Delivery } from './delivery.entity';

/** Append-only log: one row per HTTP attempt. Partitioned by range of id, a partition a day (TimePartitions1795690000000). */
@Entity('attempts')
@Index('attempts_delivery_id_number_idx', ['deliveryId', 'attemptNumber'])
@Index('attempts_started_at_idx', ['startedAt'])
// Serves an endpoint's stats (latency and success over the last hour and day).
@Index('attempts_endpoint_started_idx', ['endpointId', 'startedAt'])
export class DeliveryAttempt {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'delivery_id', type: 'varchar', length: 40 })
  deliveryId: string;

  // No foreign key in the database (a partition of deliveries could not be dropped without checking every attempt).
  @ManyToOne(() => Delivery, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: Delivery;

  @Column({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId: string;

  @Column({ name: 'attempt_number', type: 'integer' })
  attemptNumber: number;

  @Column({ type: 'varchar', length: 16 })
  trigger: AttemptTrigger;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  /** `utf8`, or `base64` when the body was not storable text (binary, gzip, NUL bytes, broken UTF-8); null without a body. */
  @Column({ name: 'response_body_encoding', type: 'varchar', length: 8, nullable: true })
  responseBodyEncoding: 'utf8' | 'base64' | null;

  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders: Record<string, string> | null;

  /** Names of response headers whose values are stored as base64 (they held control characters). */
  @Column({ name: 'response_headers_base64', type: 'text', array: true, nullable: true })
  responseHeadersBase64: string[] | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
