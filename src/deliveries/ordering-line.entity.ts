import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Endpoint } from '../endpoints/endpoint.entity';

/**
 * One row per ordered line (endpoint, orderingKey): the counter that gives each new delivery of the line its place,
 * and the lock that orders everything done to the line.
 *
 * Why a counter row and not commit-ordered ids or timestamps: two API processes publishing the same key at once
 * each upsert this row in their publishing transaction; the second waits on the first's row lock until it commits,
 * then reads its value. So places are handed out in the order the transactions take the lock, and a delivery with
 * a greater place is never visible before one with a smaller place (the smaller one committed first). Ids and
 * clocks of different processes give no such guarantee (a transaction that took its id first may commit last).
 *
 * The same row is locked by the transaction that finishes a line's head (see AttemptRecorder), so that a publish
 * and a finish of the same line never interleave in a way that loses the successor (see there).
 */
@Entity('ordering_lines')
export class OrderingLine {
  @PrimaryColumn({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId: string;

  @ManyToOne(() => Endpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: Endpoint;

  @PrimaryColumn({ name: 'ordering_key', type: 'varchar', length: 256 })
  orderingKey: string;

  /** The place given to the line's latest delivery. */
  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq: string;

  /** The event of the line's latest delivery. */
  @Column({ name: 'last_event_id', type: 'varchar', length: 40, nullable: true })
  lastEventId: string | null;

  /** The latest event before the last publish to this line: the first new delivery's predecessor (set by the same upsert). */
  @Column({ name: 'previous_event_id', type: 'varchar', length: 40, nullable: true })
  previousEventId: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
