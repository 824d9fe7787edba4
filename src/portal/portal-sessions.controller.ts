import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ACCESS, AuthedRequest, Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { Page, PageQuery } from '../common/pagination';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { publicBaseUrl } from '../inbound/public-url';
import { Tenant } from '../tenants/tenant.entity';
import { CAPABILITIES } from '../access/capabilities';
import { CreatePortalSessionDto, CreatedPortalSessionView, PortalSessionView, PrincipalView } from './dto/portal-session.dto';
import { PortalSessionsService } from './portal-sessions.service';
import { ApiPage } from '../common/api-page';

@ApiTags('portal')
@ApiErrors()
@Controller('v1')
export class PortalSessionsController {
  constructor(
    private readonly sessions: PortalSessionsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Post('tenants/:tenantId/portal-sessions')
  @TenantRoute()
  @Capability('never')
  @HttpCode(201)
  @ApiOperation({ summary: 'Make a portal link: the console for this tenant (or some of its endpoints) with only the given capabilities' })
  @ApiResponse({ status: 201, type: CreatedPortalSessionView, description: 'the token is shown once' })
  create(@CurrentTenant() tenant: Tenant, @Body() dto: CreatePortalSessionDto, @Req() req: FastifyRequest): Promise<CreatedPortalSessionView> {
    return this.sessions.create(tenant, dto, `${publicBaseUrl(req, this.config)}/console/`);
  }

  @Get('tenants/:tenantId/portal-sessions')
  @TenantRoute()
  @Capability('never')
  @ApiPage(PortalSessionView)
  list(@CurrentTenant() tenant: Tenant, @Query() query: PageQuery): Promise<Page<PortalSessionView>> {
    return this.sessions.list(tenant, query);
  }

  @Delete('tenants/:tenantId/portal-sessions/:sessionId')
  @TenantRoute()
  @Capability('never')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a portal link: its token answers 401 from now on' })
  revoke(@CurrentTenant() tenant: Tenant, @Param('sessionId') id: string): Promise<void> {
    return this.sessions.revoke(tenant, id);
  }

  @Get('me')
  // Any key (tenant routes' access) but no tenant in the path.
  @SetMetadata(ACCESS, 'tenant')
  @ApiBearerAuth()
  @Capability('read')
  @ApiOperation({ summary: 'Who this key is: admin, a tenant key, or a portal link with its capabilities (the console starts here)' })
  @ApiResponse({ status: 200, type: PrincipalView })
  me(@Req() req: AuthedRequest): PrincipalView {
    const p = req.principal!;
    return {
      kind: p.kind,
      tenantId: p.tenantId ?? null,
      capabilities: p.portal ? p.portal.capabilities : [...CAPABILITIES],
      endpointIds: p.portal?.endpointIds ?? null,
      expiresAt: p.portal?.expiresAt.toISOString() ?? null,
    };
  }
}
