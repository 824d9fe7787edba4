import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';

export type ReplayStatus = 'running' | 'done' | 'cancelled' | 'failed';
/** Which deliveries a replay resends: dead ones, failed ones still retrying, succeeded ones. */
export type ReplayedStatus = 'dead' | 'failed' | 'succeeded';

/**
 * A bulk replay: resends the deliveries of a window (or, with `missing`, creates the ones an endpoint
 * never got), page by page in the worker role. `position` is the last id handled, so a restart resumes there.
 */
@Entity('replays')
@Index('replays_tenant_id_id_idx', ['tenantId', 'id'])
@Index('replays_running_idx', ['id'], { where: "status = 'running'" })
export class Replay {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @Column({ name: 'endpoint_id', type: 'varchar', length: 40, nullable: true })
  endpointId: string | null;

  @Column({ type: 'timestamptz' })
  since: Date;

  @Column({ type: 'timestamptz' })
  until: Date;

  /** Event types (a trailing `.*` matches a prefix); null: every type. */
  @Column({ name: 'event_types', type: 'text', array: true, nullable: true })
  eventTypes: string[] | null;

  @Column({ type: 'text', array: true })
  statuses: ReplayedStatus[];

  @Column({ type: 'boolean', default: false })
  missing: boolean;

  @Column({ type: 'varchar', length: 16 })
  status: ReplayStatus;

  /** Candidates counted at creation; set to `done` when the replay ends (rows may change meanwhile). */
  @Column({ type: 'integer' })
  total: number;

  /** Candidates handled so far. */
  @Column({ type: 'integer', default: 0 })
  done: number;

  /** Deliveries resent or created so far (with `missing`, candidates the endpoint's filter excludes are not). */
  @Column({ type: 'integer', default: 0 })
  queued: number;

  @Column({ type: 'varchar', length: 40, nullable: true })
  position: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The worker running it holds it until then, renewing it with every page. */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
