import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The first answer to a POST under /api/v1 with an `idempotency-key`, kept 24 h per principal so a retry
 * (Svix's SDKs retry every 5xx and network error with the same key) gets it again instead of acting twice.
 */
@Entity('api_idempotency')
@Index('api_idempotency_created_at_idx', ['createdAt'])
export class IdempotentResponse {
  /** Who asked: `admin`, or `tenant:<id>`; keys never collide across principals. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  principal: string;

  @PrimaryColumn({ type: 'varchar', length: 256 })
  key: string;

  /** SHA-256 of method, path and body: the same key with another request is refused. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  /** Null while the first request is still running. */
  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'jsonb', nullable: true })
  response: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
