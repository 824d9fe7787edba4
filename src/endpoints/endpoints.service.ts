import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { isIP } from 'node:net';
import { And, DataSource, In, IsNull, LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { HeraldConfig, RetryPolicy } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ConflictError, InvalidInputError, LimitExceededError, NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { Page, PageQuery, decodeCursor, toPage } from '../common/pagination';
import { SecretBox } from '../common/secrets';
import { AllowList, isAddressAllowed, parseAllowList, stripBrackets } from '../common/address-guard';
import { SigningScheme, generateSecretFor, shownSecret } from '../common/webhook-signature';
import { Tenant } from '../tenants/tenant.entity';
import { CreateEndpointDto, EndpointView, EventSampleDto, TransformationTestDto, TransformationTestView, EndpointWithSecretView, RetryPolicyDto, UpdateEndpointDto } from './dto/endpoint.dto';
import { EndpointCache } from './endpoint-cache';
import { Endpoint } from './endpoint.entity';
import { FilterResult } from './filter/payload-filter';
import { transform } from '../transformations/transformation';
import { filterVerdict } from './subscription';

const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/** The latest expiry among retired secrets still signing, or null. */
function rotationEnd(retired: { expiresAt: string }[], now = Date.now()): string | null {
  const live = retired.map((r) => Date.parse(r.expiresAt)).filter((t) => t > now);
  return live.length ? new Date(Math.max(...live)).toISOString() : null;
}

export function endpointView(e: Endpoint): EndpointView {
  return {
    id: e.id,
    tenantId: e.tenantId,
    url: e.url,
    uid: e.uid,
    description: e.description,
    channels: e.channels,
    signatureHeaders: e.signatureHeaders,
    eventTypes: e.eventTypes,
    disabled: e.disabled,
    disabledReason: e.disabledReason,
    rateLimitPerSecond: e.rateLimitPerSecond,
    maxInFlight: e.maxInFlight,
    ordering: e.ordering,
    timeoutMs: e.timeoutMs,
    retryPolicy: e.retryPolicy,
    headers: e.headers,
    metadata: e.metadata,
    filter: e.filter,
    transformation: e.transformation,
    signing: e.signing,
    sendTraceparent: e.sendTraceparent,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** A deleted endpoint's pending deliveries are dead-lettered this many at a time, each batch a transaction of its own. */
const DEAD_LETTER_BATCH = 5000;
/** Opened signing secrets kept per process (see `open`). */
const OPENED_SECRETS_MAX = 10_000;

@Injectable()
export class EndpointsService {
  private readonly allow: AllowList;
  private readonly opened = new Map<string, string>();

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
    // Bounds every publish's fan-out. Counted without a lock: concurrent creates may pass it by a few.
    const cap = this.config.limits.maxEndpointsPerTenant;
    if ((await this.endpoints.countBy({ tenantId: tenant.id, deletedAt: IsNull() })) >= cap) {
      throw new LimitExceededError('url', `this tenant has ${cap} endpoints, the most allowed (HERALD_MAX_ENDPOINTS_PER_TENANT); delete one first`);
    }
    const signing = dto.signing ?? 'hmac';
    if (signing === 'ed25519' && dto.secret !== undefined) throw InvalidInputError.field('secret', 'secret cannot be given with signing "ed25519": Herald generates the key pair');
    const secret = dto.secret ?? generateSecretFor(signing);
    const now = new Date();
    const endpoint = this.endpoints.create({
      id: newId('ep'),
      tenantId: tenant.id,
      url: dto.url,
      uid: dto.uid ?? null,
      channels: dto.channels ?? [],
      signatureHeaders: dto.signatureHeaders ?? 'webhook',
      description: dto.description ?? '',
      eventTypes: dto.eventTypes ?? [],
      secretSealed: this.box.seal(secret),
      signing,
      retiredSecrets: [],
      disabled: dto.disabled ?? false,
      disabledReason: dto.disabled ? 'manual' : null,
      rateLimitPerSecond: dto.rateLimitPerSecond === undefined ? (tenant.endpointRateLimitPerSecond ?? null) : dto.rateLimitPerSecond,
      maxInFlight: dto.maxInFlight ?? null,
      ordering: dto.ordering ?? 'none',
      timeoutMs: dto.timeoutMs ?? 15000,
      retryPolicy: this.policy(dto.retryPolicy, this.config.defaultRetryPolicy),
      headers: dto.headers ?? {},
      metadata: dto.metadata ?? {},
      filter: dto.filter ?? null,
      transformation: dto.transformation ?? null,
      sendTraceparent: dto.sendTraceparent ?? false,
      createdAt: now,
      updatedAt: now,
    });
    await this.saveUnique(endpoint);
    this.cache.changed(endpoint);
    return { ...endpointView(endpoint), secret: shownSecret(secret) };
  }

  /** `scope`: only these endpoints (a portal link limited to some endpoints). */
  async list(tenant: Tenant, query: PageQuery, scope?: string[]): Promise<Page<EndpointView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const id = before && scope ? And(LessThan(before), In(scope)) : before ? LessThan(before) : scope ? In(scope) : undefined;
    const rows = await this.endpoints.find({
      where: { tenantId: tenant.id, deletedAt: IsNull(), ...(id ? { id } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, endpointView);
  }

  /** By id, or by the endpoint's uid. */
  async get(tenant: Tenant, id: string): Promise<Endpoint> {
    const endpoint = await this.endpoints.findOneBy({ tenantId: tenant.id, ...(id.startsWith('ep_') ? { id } : { uid: id }), deletedAt: IsNull() });
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
    if (dto.uid !== undefined) changes.uid = dto.uid;
    if (dto.channels !== undefined) changes.channels = dto.channels;
    if (dto.signatureHeaders !== undefined) changes.signatureHeaders = dto.signatureHeaders;
    if (dto.eventTypes !== undefined) changes.eventTypes = dto.eventTypes;
    if (dto.rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = dto.rateLimitPerSecond;
    if (dto.maxInFlight !== undefined) changes.maxInFlight = dto.maxInFlight;
    if (dto.ordering !== undefined) changes.ordering = dto.ordering;
    if (dto.timeoutMs !== undefined) changes.timeoutMs = dto.timeoutMs;
    if (dto.retryPolicy !== undefined) changes.retryPolicy = this.policy(dto.retryPolicy, endpoint.retryPolicy);
    if (dto.headers !== undefined) changes.headers = dto.headers;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata;
    if (dto.filter !== undefined) changes.filter = dto.filter;
    if (dto.transformation !== undefined) changes.transformation = dto.transformation;
    const resign = dto.signing !== undefined && dto.signing !== endpoint.signing ? dto.signing : null;
    if (dto.sendTraceparent !== undefined) changes.sendTraceparent = dto.sendTraceparent;
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
      await tx.update(Endpoint, { id: endpoint.id }, { ...changes, updatedAt: new Date() } as QueryDeepPartialEntity<Endpoint>).catch((error: { code?: string }) => {
        if (error.code === '23505') throw new ConflictError(`an endpoint with uid "${dto.uid}" exists`, 'uid');
        throw error;
      });
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

  /**
   * Deletes the endpoint; its pending deliveries are dead-lettered (they can still be listed and resent elsewhere).
   *
   * The endpoint is marked deleted first, and every process learns it (the cache's invalidation): from then on a
   * worker that takes one of its deliveries finishes it as dead instead of sending it. Its pending deliveries are
   * then dead-lettered in batches of short transactions, each skipping the rows a worker holds locked at that moment
   * (claiming or recording them, many rows at once in an order of its own): waiting for those is how one large
   * UPDATE and a worker's batch deadlock, and PostgreSQL then aborts one of them (it was this request, a 500, under
   * a backlog). A skipped row is left to the worker, which dead-letters it when it next takes it.
   */
  async remove(tenant: Tenant, id: string): Promise<void> {
    const endpoint = await this.get(tenant, id);
    await this.endpoints.update({ id: endpoint.id }, { deletedAt: new Date(), disabled: true, updatedAt: new Date() });
    this.cache.changed(endpoint);
    for (;;) {
      const [, n]: [unknown, number] = await this.db.query(
        `UPDATE deliveries SET status = 'dead', last_error = 'endpoint deleted', next_attempt_at = NULL, updated_at = now()
         WHERE id IN (SELECT id FROM deliveries WHERE endpoint_id = $1 AND status = 'pending' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [endpoint.id, DEAD_LETTER_BATCH],
      );
      if (n < DEAD_LETTER_BATCH) return;
    }
  }

  /** Saves, answering 409 when the uid is taken by another live endpoint of the tenant. */
  private async saveUnique(endpoint: Endpoint): Promise<void> {
    try {
      await this.endpoints.save(endpoint);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictError(`an endpoint with uid "${endpoint.uid}" exists`, 'uid');
      throw error;
    }
  }

  /** The current secret, and until when a previous one still signs beside it (null: no rotation in progress). */
  async secret(tenant: Tenant, id: string): Promise<{ secret: string; previousSecretSignsUntil: string | null }> {
    const endpoint = await this.get(tenant, id);
    return { secret: shownSecret(this.box.open(endpoint.secretSealed)), previousSecretSignsUntil: rotationEnd(endpoint.retiredSecrets) };
  }

  /** A new secret of the endpoint's scheme; the old one keeps signing beside it for 24 h. */
  async rotate(tenant: Tenant, id: string, secret?: string): Promise<{ secret: string; previousSecretSignsUntil: string | null }> {
    const endpoint = await this.get(tenant, id);
    const next = secret ?? generateSecretFor(endpoint.signing);
    const retired = await this.rotateTo(this.db, endpoint.id, next, endpoint.signing);
    this.cache.changed(endpoint);
    return { secret: shownSecret(next), previousSecretSignsUntil: rotationEnd(retired) };
  }

  /**
   * Makes `next` the secret (of scheme `signing`). One statement moves the current secret (as the row holds it
   * then, under its lock) into the retired ones, so concurrent rotations each retire the secret the one before
   * them set, and every secret returned signs.
   */
  private async rotateTo(db: { query: DataSource['query'] }, endpointId: string, next: string, signing: SigningScheme): Promise<{ expiresAt: string }[]> {
    const [rows]: [{ retired_secrets: { expiresAt: string }[] }[], number] = await db.query(
      `UPDATE endpoints SET
         retired_secrets = coalesce((SELECT jsonb_agg(r) FROM jsonb_array_elements(retired_secrets) r WHERE (r->>'expiresAt')::timestamptz > now()), '[]'::jsonb)
                           || jsonb_build_array(jsonb_build_object('sealed', secret_sealed, 'expiresAt', to_char((now() + make_interval(secs => $3::float / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
         secret_sealed = $2, signing = $4, updated_at = now()
       WHERE id = $1 RETURNING retired_secrets`,
      [endpointId, this.box.seal(next), ROTATION_OVERLAP_MS, signing],
    );
    return rows[0]?.retired_secrets ?? [];
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
    const retired = endpoint.retiredSecrets.filter((r) => Date.parse(r.expiresAt) > now).map((r) => this.open(r.sealed));
    return [this.open(endpoint.secretSealed), ...retired];
  }

  /**
   * A sealed secret, opened once per process: every attempt signs, and opening (AES-GCM) cost the worker about 2 % of
   * its CPU in a drain. Keyed by the sealed text, which a new secret always changes (its IV is random), so a copy
   * is never stale; bounded, as endpoints come and go.
   */
  private open(sealed: string): string {
    let plain = this.opened.get(sealed);
    if (plain === undefined) {
      plain = this.box.open(sealed);
      if (this.opened.size >= OPENED_SECRETS_MAX) this.opened.clear();
      this.opened.set(sealed, plain);
    }
    return plain;
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
