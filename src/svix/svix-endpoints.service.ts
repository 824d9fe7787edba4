import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { InvalidInputError } from '../common/errors';
import { DeliveriesService } from '../deliveries/deliveries.service';
import { UpdateEndpointDto } from '../endpoints/dto/endpoint.dto';
import { Endpoint } from '../endpoints/endpoint.entity';
import { EndpointsService } from '../endpoints/endpoints.service';
import { Tenant } from '../tenants/tenant.entity';
import { EndpointHeadersPatchIn, EndpointIn, EndpointPatchIn, EndpointUpdateIn, RecoverIn } from './dto/svix-inputs.dto';
import { SvixListRequest, SvixListResponse, afterOperator, toSvixList } from './svix-list';
import { endpointOut } from './svix-views';

type EndpointOut = ReturnType<typeof endpointOut>;

/** Svix's `rateLimit` and `throttleRate` are one setting in Herald; undefined when neither is sent. */
function rateOf(body: { rateLimit?: number | null; throttleRate?: number | null }): number | null | undefined {
  return body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
}

/** Svix endpoints onto Herald's EndpointsService: filterTypes ↔ eventTypes, throttleRate ↔ rateLimitPerSecond. */
@Injectable()
export class SvixEndpoints {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly deliveries: DeliveriesService,
    @InjectRepository(Endpoint) private readonly rows: Repository<Endpoint>,
  ) {}

  async create(tenant: Tenant, body: EndpointIn): Promise<EndpointOut> {
    const created = await this.endpoints.create(tenant, {
      url: body.url,
      uid: body.uid ?? undefined,
      description: body.description,
      eventTypes: body.filterTypes ?? undefined,
      channels: body.channels ?? undefined,
      disabled: body.disabled,
      rateLimitPerSecond: rateOf(body),
      secret: body.secret ?? undefined,
      headers: body.headers ?? undefined,
      metadata: body.metadata,
      // Receivers moving from Svix read svix-* headers; Svix's own Webhook class reads either.
      signatureHeaders: 'svix',
    });
    return endpointOut(await this.endpoints.get(tenant, created.id));
  }

  async list(tenant: Tenant, request: SvixListRequest): Promise<SvixListResponse<EndpointOut>> {
    const qb = this.rows
      .createQueryBuilder('e')
      .where('e.tenant_id = :tenantId AND e.deleted_at IS NULL', { tenantId: tenant.id })
      .orderBy('e.id', request.direction)
      .take(request.limit + 1);
    if (request.from) qb.andWhere(`e.id ${afterOperator(request)} :from`, { from: request.from });
    return toSvixList(await qb.getMany(), request, (e) => e.id, endpointOut);
  }

  async get(tenant: Tenant, idOrUid: string): Promise<EndpointOut> {
    return endpointOut(await this.endpoints.get(tenant, idOrUid));
  }

  /** PATCH changes what is sent; PUT (replace) resets what is left out to Svix's defaults. */
  async update(tenant: Tenant, idOrUid: string, body: EndpointPatchIn | EndpointUpdateIn, replace: boolean): Promise<EndpointOut> {
    const endpoint = await this.endpoints.get(tenant, idOrUid);
    const rate = rateOf(body);
    const dto: UpdateEndpointDto = {
      url: body.url,
      uid: replace ? (body.uid ?? null) : body.uid,
      description: replace ? (body.description ?? '') : body.description,
      eventTypes: replace ? (body.filterTypes ?? []) : body.filterTypes === null ? [] : body.filterTypes,
      channels: replace ? (body.channels ?? []) : body.channels === null ? [] : body.channels,
      disabled: replace ? (body.disabled ?? false) : body.disabled,
      rateLimitPerSecond: replace ? (rate ?? null) : rate,
      metadata: replace ? (body.metadata ?? {}) : body.metadata,
    };
    await this.endpoints.update(tenant, endpoint.id, dto);
    const secret = (body as EndpointPatchIn).secret;
    if (secret) await this.endpoints.rotate(tenant, endpoint.id, secret);
    return endpointOut(await this.endpoints.get(tenant, endpoint.id));
  }

  async remove(tenant: Tenant, idOrUid: string): Promise<void> {
    await this.endpoints.remove(tenant, idOrUid);
  }

  async headers(tenant: Tenant, idOrUid: string): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    return { headers: (await this.endpoints.get(tenant, idOrUid)).headers, sensitive: [] };
  }

  /** PUT replaces the headers; PATCH merges them and drops `deleteHeaders`. */
  async setHeaders(tenant: Tenant, idOrUid: string, body: EndpointHeadersPatchIn, merge: boolean): Promise<void> {
    const endpoint = await this.endpoints.get(tenant, idOrUid);
    const headers = merge ? { ...endpoint.headers, ...body.headers } : { ...body.headers };
    for (const name of body.deleteHeaders ?? []) delete headers[name];
    await this.endpoints.update(tenant, endpoint.id, { headers });
  }

  async secret(tenant: Tenant, idOrUid: string): Promise<{ key: string }> {
    return { key: (await this.endpoints.secret(tenant, idOrUid)).secret };
  }

  async rotate(tenant: Tenant, idOrUid: string, key?: string | null): Promise<void> {
    await this.endpoints.rotate(tenant, idOrUid, key ?? undefined);
  }

  /** Recovery runs at once in Herald: the task Svix would report later is already finished. */
  async recover(tenant: Tenant, idOrUid: string, body: RecoverIn) {
    const endpoint = await this.endpoints.get(tenant, idOrUid);
    await this.deliveries.recover(tenant, endpoint.id, { since: body.since, until: body.until ?? undefined });
    return { id: `qtask_${endpoint.id.slice(3)}${Date.now().toString(36)}`, status: 'finished', task: 'endpoint.recover', updatedAt: new Date().toISOString() };
  }

  /** Messages by status at this endpoint, created in [since, until) (default: the last 28 days). */
  async stats(tenant: Tenant, idOrUid: string, since?: string, until?: string) {
    const endpoint = await this.endpoints.get(tenant, idOrUid);
    const from = since ? new Date(since) : new Date(Date.now() - 28 * 24 * 3600 * 1000);
    const to = until ? new Date(until) : new Date();
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw InvalidInputError.field('since', 'since and until must be ISO-8601 date-times');
    const rows: { status: string; n: number }[] = await this.rows.query(
      `SELECT status, count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND created_at >= $3 AND created_at < $4 GROUP BY status`,
      [tenant.id, endpoint.id, from, to],
    );
    const count = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
    return { success: count('succeeded'), pending: count('pending'), sending: 0, fail: count('dead'), canceled: 0 };
  }

  async live(tenant: Tenant, idOrUid: string): Promise<Endpoint> {
    return this.endpoints.get(tenant, idOrUid);
  }

  /** For attempted destinations: endpoints by id, deleted ones included. */
  async byIds(tenantId: string, ids: string[]): Promise<Map<string, Endpoint>> {
    if (!ids.length) return new Map();
    const rows = await this.rows.find({ where: ids.map((id) => ({ tenantId, id })) });
    return new Map(rows.map((e) => [e.id, e]));
  }
}
