import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Endpoint } from '../endpoints/endpoint.entity';

/**
 * The stats API's rollup (stats-series.ts): per endpoint and 10 minutes, the attempts started, those that
 * succeeded, their durations as a latency histogram (latency-histogram.ts: bucket → count, as two arrays),
 * and the deliveries created. Written once a 10-minute granule is closed (never changed after), read instead
 * of the attempts and deliveries rows it sums; purged with the attempts by the retention.
 */
@Entity('endpoint_stat_granules')
export class EndpointStatGranule {
  @PrimaryColumn({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId: string;

  @ManyToOne(() => Endpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: Endpoint;

  @PrimaryColumn({ type: 'timestamptz' })
  start: Date;

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ type: 'integer' })
  succeeded: number;

  @Column({ name: 'latency_buckets', type: 'integer', array: true })
  latencyBuckets: number[];

  @Column({ name: 'latency_counts', type: 'integer', array: true })
  latencyCounts: number[];

  @Column({ type: 'integer' })
  deliveries: number;
}

/** Which granules of an endpoint are rolled up: every one in [rolledFrom, rolledTo) (an empty one has no row). */
@Entity('endpoint_stat_marks')
export class EndpointStatMark {
  @PrimaryColumn({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId: string;

  @ManyToOne(() => Endpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: Endpoint;

  @Column({ name: 'rolled_from', type: 'timestamptz' })
  rolledFrom: Date;

  @Column({ name: 'rolled_to', type: 'timestamptz' })
  rolledTo: Date;
}
