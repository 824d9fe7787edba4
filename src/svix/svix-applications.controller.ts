import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../access/access.decorators';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { publicBaseUrl } from '../inbound/public-url';
import { PortalSessionsService } from '../portal/portal-sessions.service';
import { AppPortalAccessIn, ApplicationIn, ApplicationPatchIn, ExpireAllIn } from './dto/svix-inputs.dto';
import { SvixApi } from './svix-api';
import { SvixApplications } from './svix-applications.service';
import { Principal, SvixPrincipal } from './svix-auth';
import { SvixBody } from './svix-body.pipe';
import { SvixErrorFilter } from './svix-errors';
import { svixPortalGrant } from './svix-portal-access';
import { parseListRequest } from './svix-list';
import { applicationOut } from './svix-views';

type SvixQuery = Record<string, string | undefined>;
const DEFAULT_PORTAL_SECONDS = 3600;

@SvixApi()
@Controller('api/v1')
export class SvixApplicationsController {
  constructor(
    private readonly apps: SvixApplications,
    private readonly portal: PortalSessionsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
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
   * Svix's app portal access, as a Herald portal link for the whole application: the url opens Herald's console
   * for the application's customer, and the token works on /api/v1 and /v1 alike. Without `readOnly` it may
   * manage endpoints, see and rotate their secrets and resend (Svix's app portal), or what its `capabilities` name;
   * with `readOnly`, only read. It is
   * listed and revocable with the tenant's portal sessions (default 1 h, at most 7 days).
   */
  @Post('auth/app-portal-access/:appId')
  @ApiOperation({ summary: "A portal link for one application (Svix's app portal access): a console url and its token" })
  async portalAccess(
    @Principal() principal: SvixPrincipal,
    @Param('appId') appId: string,
    @Body(new SvixBody(AppPortalAccessIn)) body: InstanceType<typeof AppPortalAccessIn>,
    @Req() request: FastifyRequest,
  ) {
    const tenant = await this.apps.upsert(principal, appId, body.application);
    const session = await this.portal.create(
      tenant,
      { capabilities: svixPortalGrant(body.capabilities, body.readOnly), expiresInSeconds: body.expiry ?? DEFAULT_PORTAL_SECONDS },
      `${publicBaseUrl(request, this.config)}/console/`,
    );
    return { token: session.token, url: session.url };
  }

  /** Ends the application's portal links `expiry` seconds from now (at once by default). */
  @Post('auth/app/:appId/expire-all')
  @HttpCode(204)
  @ApiOperation({ summary: "End every portal link of an application (Svix's expire-all)" })
  async expireAll(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Body(new SvixBody(ExpireAllIn)) body: InstanceType<typeof ExpireAllIn>): Promise<void> {
    const tenant = await this.apps.resolve(principal, appId);
    await this.portal.expireAll(tenant, body.expiry ?? 0);
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
