import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { Page, PageQuery } from '../common/pagination';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { Tenant } from '../tenants/tenant.entity';
import { CreateSourceDto, SourceRequestView, SourceView, UpdateSourceDto } from './dto/source.dto';
import { publicBaseUrl } from './public-url';
import { SourcesService } from './sources.service';
import { ApiPage } from '../common/api-page';

@ApiTags('sources')
@Controller('v1/tenants/:tenantId/sources')
export class SourcesController {
  constructor(
    private readonly sources: SourcesService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Post()
  @TenantRoute()
  @Capability('never')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a source',
    description:
      "The verifier's secret or credentials are write-only: sealed at rest and never returned; only its type and non-secret settings (hmac header, algorithm, encoding, prefix; api-key header) are shown. " +
      'ingestUrl is HERALD_PUBLIC_URL + /in/{id} when set, else derived from the request (X-Forwarded-Proto/-Host or Host). ' +
      "Event type of each request: the provider's (Stripe type, X-GitHub-Event, X-Shopify-Topic, Standard Webhooks type; characters outside A-Z a-z 0-9 _ . : - become _), else eventType, else \"<name>.received\".",
  })
  create(@CurrentTenant() tenant: Tenant, @Body() dto: CreateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.create(tenant, dto, publicBaseUrl(req, this.config));
  }

  @Get()
  @TenantRoute()
  @Capability('read', { wholeTenant: true })
  @ApiPage(SourceView)
  list(@CurrentTenant() tenant: Tenant, @Query() query: PageQuery, @Req() req: FastifyRequest): Promise<Page<SourceView>> {
    return this.sources.list(tenant, query, publicBaseUrl(req, this.config));
  }

  @Get(':sourceId')
  @TenantRoute()
  @Capability('read', { wholeTenant: true })
  @ApiResponse({ status: 200, type: SourceView })
  get(@CurrentTenant() tenant: Tenant, @Param('sourceId') id: string, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.get(tenant, id, publicBaseUrl(req, this.config));
  }

  @Patch(':sourceId')
  @TenantRoute()
  @Capability('never')
  @ApiOperation({ summary: 'Change a source', description: 'A verifier given here replaces the whole verifier, secret included. eventType null goes back to "<name>.received".' })
  update(@CurrentTenant() tenant: Tenant, @Param('sourceId') id: string, @Body() dto: UpdateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.update(tenant, id, dto, publicBaseUrl(req, this.config));
  }

  @Delete(':sourceId')
  @TenantRoute()
  @Capability('never')
  @ApiOperation({ summary: 'Delete a source', description: 'Its ingest URL answers 404 at once and its request log goes; the events it produced stay.' })
  @HttpCode(204)
  remove(@CurrentTenant() tenant: Tenant, @Param('sourceId') id: string): Promise<void> {
    return this.sources.remove(tenant, id);
  }

  /** Recent requests received at the source's ingest URL, newest first, with the verification outcome. */
  @Get(':sourceId/requests')
  @TenantRoute()
  @Capability('read', { wholeTenant: true })
  @ApiOperation({
    summary: "A source's recent requests",
    description: 'Newest first. Written just after each answer, in groups (a request answered by another API process shows up within moments). Kept bounded: pruned every minute by the worker to the last 1000 per source and to HERALD_RETENTION_DAYS. Rejected requests (401, 413) are logged with their reason; nothing else of them is stored.',
  })
  @ApiPage(SourceRequestView)
  requests(@CurrentTenant() tenant: Tenant, @Param('sourceId') id: string, @Query() query: PageQuery): Promise<Page<SourceRequestView>> {
    return this.sources.listRequests(tenant, id, query);
  }
}
