import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { isIP } from 'node:net';
import { DataSource, IsNull, LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { HeraldConfig, RetryPolicy } from '../config/config';
import { CONFIG } from '../config/config.module';
import { InvalidInputError, NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { Page, PageQuery, decodeCursor, toPage } from '../common/pagination';
import { SecretBox } from '../common/secrets';
import { AllowList, isAddressAllowed, parseAllowList, stripBrackets } from '../deliveries/address-guard';
import { SigningScheme, generateSecretFor, shownSecret } from '../deliveries/signature';
import { Tenant } from '../tenants/tenant.entity';
import { CreateEndpointDto, EndpointView, EventSampleDto, TransformationTestDto, TransformationTestView, EndpointWithSecretView, RetryPolicyDto, UpdateEndpointDto } from './dto/endpoint.dto';
import { EndpointCache } from './endpoint-cache';
import { Endpoint } from './endpoint.entity';
import { FilterResult } from './filter/payload-filter';
import { transform } from '../transformations/transformation';
import { filterVerdict } from './subscription';

const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export function endpointView(e: Endpoint): EndpointView {
  return {
    id: e.id,
    tenantId: e.tenantId,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    disabled: e.disabled,
    disabledReason: e.disabledReason,
    rateLimitPerSecond: e.rateLimitPerSecond,
    maxInFlight: e.maxInFlight,
    timeoutMs: e.timeoutMs,
    retryPolicy: e.retryPolicy,
    headers: e.headers,
    metadata: e.metadata,
    filter: e.filter,
    transformation: e.transformation,
    signing: e.signing,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

@Injectable()
export class EndpointsService {
  private readonly allow: AllowList;

  constructor(
    @InjectRepository(Endpoint) private readonly endpoints: Repository<Endpoint>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly cache: EndpointCache,
    private readonly box: SecretBox,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {
    this.allow = parseAllowList(config.allowPrivateNetworks);
  }

  async create(tenant: Tenant, dto: CreateEndpointDto): Promise<EndpointWithSecretView> {
    this.checkAddress(dto.url);
    const signing = dto.signing ?? 'hmac';
    if (signing === 'ed25519' && dto.secret !== undefined) throw InvalidInputError.field('secret', 'secret cannot be given with signing "ed25519": Herald generates the key pair');
    const secret = dto.secret ?? generateSecretFor(signing);
    const now = new Date();
    const endpoint = this.endpoints.create({
      id: newId('ep'),
      tenantId: tenant.id,
      url: dto.url,
      description: dto.description ?? '',
      eventTypes: dto.eventTypes ?? [],
      secretSealed: this.box.seal(secret),
      signing,
      retiredSecrets: [],
      disabled: dto.disabled ?? false,
      disabledReason: dto.disabled ? 'manual' : null,
      rateLimitPerSecond: dto.rateLimitPerSecond ?? null,
      maxInFlight: dto.maxInFlight ?? null,
      timeoutMs: dto.timeoutMs ?? 15000,
      retryPolicy: this.policy(dto.retryPolicy, this.config.defaultRetryPolicy),
      headers: dto.headers ?? {},
      metadata: dto.metadata ?? {},
      filter: dto.filter ?? null,
      transformation: dto.transformation ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await this.endpoints.save(endpoint);
    this.cache.changed(endpoint);
    return { ...endpointView(endpoint), secret: shownSecret(secret) };
  }

  async list(tenant: Tenant, query: PageQuery): Promise<Page<EndpointView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const rows = await this.endpoints.find({
      where: { tenantId: tenant.id, deletedAt: IsNull(), ...(before ? { id: LessThan(before) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, endpointView);
  }

  async get(tenant: Tenant, id: string): Promise<Endpoint> {
    const endpoint = await this.endpoints.findOneBy({ tenantId: tenant.id, id, deletedAt: IsNull() });
    if (!endpoint) throw new NotFoundError('endpoint', id);
    return endpoint;
  }

  /**
   * Changes only the columns the request names (and, on enabling, the health columns it resets): the workers
   * write the health counters and the disabled flag concurrently, and a PATCH must not put back what it read.
   */
  async update(tenant: Tenant, id: string, dto: UpdateEndpointDto): Promise<EndpointView> {
    const endpoint = await this.get(tenant, id);
    const changes: Partial<Endpoint> = {};
    if (dto.url !== undefined) changes.url = this.checkAddress(dto.url);
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.eventTypes !== undefined) changes.eventTypes = dto.eventTypes;
    if (dto.rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = dto.rateLimitPerSecond;
    if (dto.maxInFlight !== undefined) changes.maxInFlight = dto.maxInFlight;
    if (dto.timeoutMs !== undefined) changes.timeoutMs = dto.timeoutMs;
    if (dto.retryPolicy !== undefined) changes.retryPolicy = this.policy(dto.retryPolicy, endpoint.retryPolicy);
    if (dto.headers !== undefined) changes.headers = dto.headers;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata;
    if (dto.filter !== undefined) changes.filter = dto.filter;
    if (dto.transformation !== undefined) changes.transformation = dto.transformation;
    const resign = dto.signing !== undefined && dto.signing !== endpoint.signing ? dto.signing : null;
    const reenabled = dto.disabled === false;
    await this.db.transaction(async (tx) => {
      if (dto.disabled === true) {
        // Keeps the reason of an endpoint that was disabled already (gone, failing).
        await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'manual' WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      }
      if (reenabled) {
        await tx.query(
          `UPDATE endpoints SET disabled = false, disabled_reason = NULL, consecutive_failures = 0, failing_since = NULL,
                  circuit_phase = NULL, circuit_until = NULL, circuit_cooldown_ms = NULL
           WHERE id = $1 AND disabled`,
          [endpoint.id],
        );
      }
      await tx.update(Endpoint, { id: endpoint.id }, { ...changes, updatedAt: new Date() } as QueryDeepPartialEntity<Endpoint>);
      // Another scheme is a rotation to a new secret of it: the current one keeps signing beside it for 24 h.
      if (resign) await this.rotateTo(tx, endpoint.id, generateSecretFor(resign), resign);
      // Deliveries parked while the endpoint was disabled become due; the sweeper picks them up.
      if (reenabled) {
        await tx.query(
          `UPDATE deliveries SET next_attempt_at = now() - make_interval(secs => $2::float / 1000), updated_at = now()
           WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at IS NULL`,
          [endpoint.id, this.config.sweepGraceMs],
        );
      }
    });
    this.cache.changed(endpoint);
    return endpointView(await this.get(tenant, id));
  }

  /** Deletes the endpoint; its pending deliveries are dead-lettered (they can still be listed and resent elsewhere). */
  async remove(tenant: Tenant, id: string): Promise<void> {
    const endpoint = await this.get(tenant, id);
    await this.db.transaction(async (tx) => {
      await tx.update(Endpoint, { id: endpoint.id }, { deletedAt: new Date(), disabled: true, updatedAt: new Date() });
      await tx.query(
        `UPDATE deliveries SET status = 'dead', last_error = 'endpoint deleted', next_attempt_at = NULL, updated_at = now()
         WHERE endpoint_id = $1 AND status = 'pending'`,
        [endpoint.id],
      );
    });
    this.cache.changed(endpoint);
  }

  async secret(tenant: Tenant, id: string): Promise<{ secret: string }> {
    const endpoint = await this.get(tenant, id);
    return { secret: shownSecret(this.box.open(endpoint.secretSealed)) };
  }

  /** A new secret of the endpoint's scheme; the old one keeps signing beside it for 24 h. */
  async rotate(tenant: Tenant, id: string, secret?: string): Promise<{ secret: string }> {
    const endpoint = await this.get(tenant, id);
    const next = secret ?? generateSecretFor(endpoint.signing);
    await this.rotateTo(this.db, endpoint.id, next, endpoint.signing);
    this.cache.changed(endpoint);
    return { secret: shownSecret(next) };
  }

  /**
   * Makes `next` the secret (of scheme `signing`). One statement moves the current secret (as the row holds it
   * then, under its lock) into the retired ones, so concurrent rotations each retire the secret the one before
   * them set, and every secret returned signs.
   */
  private async rotateTo(db: { query: DataSource['query'] }, endpointId: string, next: string, signing: SigningScheme): Promise<void> {
    await db.query(
      `UPDATE endpoints SET
         retired_secrets = coalesce((SELECT jsonb_agg(r) FROM jsonb_array_elements(retired_secrets) r WHERE (r->>'expiresAt')::timestamptz > now()), '[]'::jsonb)
                           || jsonb_build_array(jsonb_build_object('sealed', secret_sealed, 'expiresAt', to_char((now() + make_interval(secs => $3::float / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
         secret_sealed = $2, signing = $4, updated_at = now()
       WHERE id = $1`,
      [endpointId, this.box.seal(next), ROTATION_OVERLAP_MS, signing],
    );
  }

  /** Whether the endpoint's filter holds for a sample event, and which clause fails if not. */
  async testFilter(tenant: Tenant, id: string, sample: EventSampleDto): Promise<FilterResult> {
    const endpoint = await this.get(tenant, id);
    return filterVerdict(endpoint, { eventType: sample.eventType, payload: JSON.stringify(sample.payload) });
  }

  /** What the endpoint's transformation (or the one given, to try before saving) makes of a sample event. */
  async testTransformation(tenant: Tenant, id: string, sample: TransformationTestDto): Promise<TransformationTestView> {
    const endpoint = await this.get(tenant, id);
    const expression = sample.transformation ?? endpoint.transformation;
    if (!expression) return { ok: true, result: sample.payload };
    const result = await transform(expression, { eventType: sample.eventType, payload: sample.payload });
    return result.ok ? { ok: true, result: JSON.parse(result.body) as unknown } : { ok: false, error: result.error };
  }

  /** Every secret that currently signs: the current one first, then those retired less than 24 h ago. */
  signingSecrets(endpoint: Endpoint, now = Date.now()): string[] {
    const retired = endpoint.retiredSecrets.filter((r) => Date.parse(r.expiresAt) > now).map((r) => this.box.open(r.sealed));
    return [this.box.open(endpoint.secretSealed), ...retired];
  }

  /**
   * An IP literal is known to be non-public now, so it is refused at registration (names are checked
   * at every connection, after DNS, by the sender).
   */
  private checkAddress(url: string): string {
    const host = stripBrackets(new URL(url).hostname);
    if (isIP(host) && !isAddressAllowed(host, this.allow)) {
      throw InvalidInputError.field('url', `url: ${host} is not a public address (allow it with HERALD_ALLOW_PRIVATE_NETWORKS)`);
    }
    return url;
  }

  private policy(dto: RetryPolicyDto | undefined, base: RetryPolicy): RetryPolicy {
    const policy = { ...base, ...Object.fromEntries(Object.entries(dto ?? {}).filter(([, v]) => v !== undefined)) } as RetryPolicy;
    if (policy.maxDelayMs < policy.initialDelayMs) throw InvalidInputError.field('retryPolicy.maxDelayMs', 'retryPolicy.maxDelayMs must be at least initialDelayMs');
    return policy;
  }
}
