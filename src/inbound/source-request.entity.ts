import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Source } from './source.entity';

/** One request received at /in/{sourceId} and what became of it; a bounded log, newest kept. */
@Entity('source_requests')
@Index('source_requests_source_id_id_idx', ['sourceId', 'id'])
export class SourceRequest {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @Column({ name: 'source_id', type: 'varchar', length: 40 })
  sourceId: string;

  @ManyToOne(() => Source, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id' })
  source?: Source;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ type: 'boolean' })
  accepted: boolean;

  /** The status Herald answered. */
  @Column({ name: 'status_code', type: 'integer' })
  statusCode: number;

  /** Why it was rejected; null when accepted. Never contains a secret. */
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  /** No foreign key: events are purged after the retention period, this log is kept by count. */
  @Column({ name: 'event_id', type: 'varchar', length: 40, nullable: true })
  eventId: string | null;

  @Column({ name: 'event_type', type: 'varchar', length: 128, nullable: true })
  eventType: string | null;

  @Column({ name: 'provider_event_id', type: 'varchar', length: 256, nullable: true })
  providerEventId: string | null;

  /** The provider sent this event before: answered with the first event, nothing new delivered. */
  @Column({ type: 'boolean', default: false })
  duplicate: boolean;

  @Column({ name: 'content_type', type: 'varchar', length: 256, nullable: true })
  contentType: string | null;

  @Column({ name: 'body_bytes', type: 'integer' })
  bodyBytes: number;
}
