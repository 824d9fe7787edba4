import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { Page, PageQuery, decodeCursor, toPage } from '../common/pagination';
import { SecretBox } from '../common/secrets';
import { SourceCache } from './source-cache';
import { SourceRequestLog } from './source-request-log';
import { Tenant } from '../tenants/tenant.entity';
import { CreateSourceDto, SourceRequestView, SourceView, UpdateSourceDto, VerifierDto } from './dto/source.dto';
import { SourceRequest } from './source-request.entity';
import { Source, VerifierSettings } from './source.entity';
import { VerifierConfig } from './verifiers';

/** The settings of each verifier type that are safe to show; everything else is a secret or a credential. */
const PUBLIC_SETTINGS: Partial<Record<VerifierConfig['type'], readonly string[]>> = {
  hmac: ['header', 'algorithm', 'encoding', 'prefix'],
  'api-key': ['header'],
};

export function toVerifierConfig(dto: VerifierDto): VerifierConfig {
  // The DTO has been validated: only the fields of its type are present.
  const fields = Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));
  return fields as unknown as VerifierConfig;
}

export function publicSettings(config: VerifierConfig): VerifierSettings {
  const keys = PUBLIC_SETTINGS[config.type] ?? [];
  const settings: VerifierSettings = {};
  for (const key of keys) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string') settings[key] = value;
  }
  return settings;
}

export function sourceView(source: Source, baseUrl: string): SourceView {
  return {
    id: source.id,
    tenantId: source.tenantId,
    name: source.name,
    verifier: { type: source.verifierType, ...source.verifierSettings },
    eventType: source.eventType,
    ingestUrl: `${baseUrl}/in/${source.id}`,
    createdAt: source.createdAt.toISOString(),
    updatedAt: source.updatedAt.toISOString(),
  };
}

function requestView(r: SourceRequest): SourceRequestView {
  return {
    id: r.id,
    receivedAt: r.receivedAt.toISOString(),
    accepted: r.accepted,
    statusCode: r.statusCode,
    reason: r.reason,
    eventId: r.eventId,
    eventType: r.eventType,
    providerEventId: r.providerEventId,
    duplicate: r.duplicate,
    contentType: r.contentType,
    bodyBytes: r.bodyBytes,
  };
}

/** A tenant's inbound sources. `baseUrl` is where this service is reached from outside, for `ingestUrl`. */
@Injectable()
export class SourcesService {
  constructor(
    @InjectRepository(Source) private readonly sources: Repository<Source>,
    @InjectRepository(SourceRequest) private readonly requests: Repository<SourceRequest>,
    private readonly box: SecretBox,
    private readonly cache: SourceCache,
    private readonly requestLog: SourceRequestLog,
  ) {}

  async create(tenant: Tenant, dto: CreateSourceDto, baseUrl: string): Promise<SourceView> {
    const now = new Date();
    const source = this.sources.create({
      id: newId('src'),
      tenantId: tenant.id,
      name: dto.name,
      eventType: dto.eventType ?? null,
      ...this.sealVerifier(toVerifierConfig(dto.verifier)),
      createdAt: now,
      updatedAt: now,
    });
    await this.sources.save(source);
    // a process may have cached "no such source" for this id
    await this.cache.changed(source.id);
    return sourceView(source, baseUrl);
  }

  async list(tenant: Tenant, query: PageQuery, baseUrl: string): Promise<Page<SourceView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const rows = await this.sources.find({
      where: { tenantId: tenant.id, ...(before ? { id: LessThan(before) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (s) => sourceView(s, baseUrl));
  }

  async get(tenant: Tenant, id: string, baseUrl: string): Promise<SourceView> {
    return sourceView(await this.find(tenant, id), baseUrl);
  }

  async update(tenant: Tenant, id: string, dto: UpdateSourceDto, baseUrl: string): Promise<SourceView> {
    const source = await this.find(tenant, id);
    if (dto.name !== undefined) source.name = dto.name;
    if (dto.eventType !== undefined) source.eventType = dto.eventType;
    if (dto.verifier !== undefined) Object.assign(source, this.sealVerifier(toVerifierConfig(dto.verifier)));
    source.updatedAt = new Date();
    await this.sources.save(source);
    await this.cache.changed(source.id);
    return sourceView(source, baseUrl);
  }

  /** Deletes the source and its request log; events it already produced stay. */
  async remove(tenant: Tenant, id: string): Promise<void> {
    const source = await this.find(tenant, id);
    await this.sources.delete({ tenantId: tenant.id, id: source.id });
    await this.cache.changed(source.id, true);
  }

  /**
   * The source's request log, newest first. It is written after the answers, in groups: what this process
   * answered is written before it is read here; other processes' rows follow within moments.
   */
  async listRequests(tenant: Tenant, id: string, query: PageQuery): Promise<Page<SourceRequestView>> {
    const source = await this.find(tenant, id);
    await this.requestLog.flushed();
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const rows = await this.requests.find({
      where: { tenantId: tenant.id, sourceId: source.id, ...(before ? { id: LessThan(before) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, requestView);
  }

  private async find(tenant: Tenant, id: string): Promise<Source> {
    const source = await this.sources.findOneBy({ tenantId: tenant.id, id });
    if (!source) throw new NotFoundError('source', id);
    return source;
  }

  private sealVerifier(config: VerifierConfig): Pick<Source, 'verifierType' | 'verifierSettings' | 'verifierSealed'> {
    return { verifierType: config.type, verifierSettings: publicSettings(config), verifierSealed: this.box.seal(JSON.stringify(config)) };
  }
}
