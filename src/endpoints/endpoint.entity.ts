import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RetryPolicy } from '../config/config';
import type { SigningScheme } from '../common/webhook-signature';
import { Tenant } from '../tenants/tenant.entity';

/** none: deliveries in any order, in parallel. key: the events of one orderingKey in publish order, one at a time. */
export type EndpointOrdering = 'none' | 'key';
export const ENDPOINT_ORDERINGS: EndpointOrdering[] = ['none', 'key'];

export type DisabledReason = 'manual' | 'gone' | 'failing';

/** The names of the signature headers an endpoint gets: Standard Webhooks' `webhook-*`, or Svix's `svix-*`. */
export type SignatureHeaders = 'webhook' | 'svix';

/** A secret replaced by a rotation, still signing beside the new one until it expires. */
export interface RetiredSecret {
  sealed: string;
  expiresAt: string;
}

@Entity('endpoints')
@Index('endpoints_tenant_id_id_idx', ['tenantId', 'id'])
@Index('endpoints_tenant_uid_key', ['tenantId', 'uid'], { unique: true, where: 'uid IS NOT NULL AND deleted_at IS NULL' })
export class Endpoint {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @Column({ type: 'text' })
  url: string;

  /** The producer's own id for the endpoint, unique in its tenant; usable in paths instead of the id. */
  @Column({ type: 'varchar', length: 256, nullable: true })
  uid: string | null;

  /** Empty: every event. Otherwise only events with no channels or with a channel in common. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  channels: string[];

  @Column({ name: 'signature_headers', type: 'varchar', length: 16, default: 'webhook' })
  signatureHeaders: SignatureHeaders;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ name: 'event_types', type: 'text', array: true, default: () => "'{}'" })
  eventTypes: string[];

  /** AES-256-GCM sealed `whsec_…` (hmac) or `whsk_…` (ed25519 signing key). */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  /** The scheme new secrets (on rotation) are made for; retired ones keep their own until they expire. */
  @Column({ type: 'varchar', length: 16, default: 'hmac' })
  signing: SigningScheme;

  @Column({ name: 'retired_secrets', type: 'jsonb', default: () => "'[]'" })
  retiredSecrets: RetiredSecret[];

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 16, nullable: true })
  disabledReason: DisabledReason | null;

  @Column({ name: 'rate_limit_per_second', type: 'integer', nullable: true })
  rateLimitPerSecond: number | null;

  @Column({ name: 'max_in_flight', type: 'integer', nullable: true })
  maxInFlight: number | null;

  @Column({ type: 'varchar', length: 8, default: 'none' })
  ordering: EndpointOrdering;

  @Column({ name: 'timeout_ms', type: 'integer', default: 15000 })
  timeoutMs: number;

  @Column({ name: 'retry_policy', type: 'jsonb' })
  retryPolicy: RetryPolicy;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** Payload filter (src/endpoints/filter): the event fans out here only when it holds. */
  @Column({ type: 'jsonb', nullable: true })
  filter: Record<string, unknown> | null;

  /** JSONata expression over {eventType, payload} whose result is the body this endpoint receives (src/transformations). */
  @Column({ type: 'text', nullable: true })
  transformation: string | null;
  /** Opt-in: deliveries carry a W3C `traceparent` header (the attempt's span) when the event has a trace. */
  @Column({ name: 'send_traceparent', type: 'boolean', default: false })
  sendTraceparent: boolean;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  /** Circuit breaker: null (closed), 'open' (cooling down) or 'probing' (one attempt decides). */
  @Column({ name: 'circuit_phase', type: 'varchar', length: 16, nullable: true })
  circuitPhase: 'open' | 'probing' | null;

  /** End of the cool-down, or of the probe's lease. */
  @Column({ name: 'circuit_until', type: 'timestamptz', nullable: true })
  circuitUntil: Date | null;

  @Column({ name: 'circuit_cooldown_ms', type: 'integer', nullable: true })
  circuitCooldownMs: number | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
