import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Capability, CurrentTenant, TenantRoute } from '../access/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { Tenant } from '../tenants/tenant.entity';
import { CreateReplayDto, ReplayView } from './dto/replay.dto';
import { ReplaysService, replayView } from './replays.service';

@ApiTags('replays')
@ApiErrors()
@Controller('v1/tenants/:tenantId/replays')
export class ReplaysController {
  constructor(private readonly replays: ReplaysService) {}

  @Post()
  @TenantRoute()
  // A replay spans endpoints: not for a portal link limited to some of them.
  @Capability('resend', { wholeTenant: true })
  @HttpCode(202)
  @ApiResponse({ status: 202, description: 'accepted: the replay runs in the background, page by page; follow it with GET …/replays/{id}' })
  async create(@CurrentTenant() tenant: Tenant, @Body() dto: CreateReplayDto): Promise<{ id: string }> {
    return { id: (await this.replays.create(tenant, dto)).id };
  }

  @Get(':replayId')
  @TenantRoute()
  @Capability('read', { wholeTenant: true })
  @ApiResponse({ status: 200, type: ReplayView })
  async get(@CurrentTenant() tenant: Tenant, @Param('replayId') id: string): Promise<ReplayView> {
    return replayView(await this.replays.get(tenant, id));
  }

  @Post(':replayId/cancel')
  @TenantRoute()
  @Capability('resend', { wholeTenant: true })
  @HttpCode(200)
  @ApiResponse({ status: 200, type: ReplayView, description: 'stops after the page in progress; 409 if it is not running' })
  async cancel(@CurrentTenant() tenant: Tenant, @Param('replayId') id: string): Promise<ReplayView> {
    return replayView(await this.replays.cancel(tenant, id));
  }
}
