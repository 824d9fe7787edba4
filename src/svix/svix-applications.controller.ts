import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { AppPortalAccessIn, ApplicationIn, ApplicationPatchIn } from './dto/svix-inputs.dto';
import { PortalTokens } from './portal-tokens';
import { SvixApi } from './svix-api';
import { SvixApplications } from './svix-applications.service';
import { Principal, SvixPrincipal } from './svix-auth';
import { SvixBody } from './svix-body.pipe';
import { SvixErrorFilter } from './svix-errors';
import { parseListRequest } from './svix-list';
import { applicationOut } from './svix-views';

type SvixQuery = Record<string, string | undefined>;
const DEFAULT_PORTAL_SECONDS = 3600;

@SvixApi()
@Controller('api/v1')
export class SvixApplicationsController {
  constructor(
    private readonly apps: SvixApplications,
    private readonly portal: PortalTokens,
  ) {}

  @Get('app')
  @ApiOperation({ summary: 'List applications (tenants), oldest first by default' })
  list(@Principal() principal: SvixPrincipal, @Query() query: SvixQuery) {
    return this.apps.list(principal, parseListRequest(query, 'ascending'));
  }

  /** 201 when created; with ?get_if_exists=true an existing uid answers 200 with the application. */
  @Post('app')
  @ApiOperation({ summary: 'Create an application (a tenant)' })
  async create(@Principal() principal: SvixPrincipal, @Body(new SvixBody(ApplicationIn, ['metadata'])) body: InstanceType<typeof ApplicationIn>, @Query() query: SvixQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, app } = await this.apps.create(principal, body, query.get_if_exists === 'true');
    reply.status(created ? 201 : 200);
    return app;
  }

  @Get('app/:appId')
  async get(@Principal() principal: SvixPrincipal, @Param('appId') appId: string) {
    return applicationOut(await this.apps.resolve(principal, appId));
  }

  @Put('app/:appId')
  update(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Body(new SvixBody(ApplicationIn, ['metadata'])) body: InstanceType<typeof ApplicationIn>) {
    return this.apps.update(principal, appId, body, true);
  }

  @Patch('app/:appId')
  patch(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Body(new SvixBody(ApplicationPatchIn, ['metadata'])) body: InstanceType<typeof ApplicationPatchIn>) {
    return this.apps.update(principal, appId, body, false);
  }

  @Delete('app/:appId')
  @HttpCode(204)
  remove(@Principal() principal: SvixPrincipal, @Param('appId') appId: string): Promise<void> {
    return this.apps.remove(principal, appId);
  }

  /**
   * A short-lived token that acts as the application's own key on /api/v1 (default 1 h, at most 7 days).
   * The url opens Herald's console with it when HERALD_PUBLIC_URL (or the request's host) serves one.
   */
  @Post('auth/app-portal-access/:appId')
  @ApiOperation({ summary: "A short-lived token scoped to one application (Svix's app portal access)" })
  async portalAccess(
    @Principal() principal: SvixPrincipal,
    @Param('appId') appId: string,
    @Body(new SvixBody(AppPortalAccessIn)) body: InstanceType<typeof AppPortalAccessIn>,
    @Req() request: FastifyRequest,
  ) {
    const tenant = await this.apps.upsert(principal, appId, body.application);
    const token = this.portal.issue(tenant.id, new Date(Date.now() + (body.expiry ?? DEFAULT_PORTAL_SECONDS) * 1000));
    const base = `${request.protocol}://${request.host}`;
    return { token, url: `${base}/portal/#key=${encodeURIComponent(token)}` };
  }
}

/** Svix's health route: no key needed. */
@Public()
@ApiTags('svix-compatible (/api/v1)')
@UseFilters(SvixErrorFilter)
@Controller('api/v1/health')
export class SvixHealthController {
  /** Fastify answers HEAD on its own from this GET. */
  @Get()
  @HttpCode(204)
  get(): void {}
}
