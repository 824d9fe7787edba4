import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MessageIn } from './dto/svix-inputs.dto';
import { SvixApi } from './svix-api';
import { SvixApplications } from './svix-applications.service';
import { Principal, SvixPrincipal } from './svix-auth';
import { SvixBody } from './svix-body.pipe';
import { parseListRequest } from './svix-list';
import { SvixMessages, parseListFilters } from './svix-messages.service';
import { messageOut } from './svix-views';

type SvixQuery = Record<string, string | undefined>;

@SvixApi()
@Controller('api/v1/app/:appId')
export class SvixMessagesController {
  constructor(
    private readonly apps: SvixApplications,
    private readonly messages: SvixMessages,
  ) {}

  /** `application` in the body creates the application first when the path names none (admin key). */
  @Post('msg')
  @HttpCode(202)
  @ApiOperation({ summary: 'Publish a message (an event); a repeated eventId is 409' })
  async create(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Body(new SvixBody(MessageIn, ['payload'])) body: InstanceType<typeof MessageIn>, @Query() query: SvixQuery) {
    const tenant = await this.apps.upsert(principal, appId, body.application);
    return this.messages.create(tenant, body, query.with_content !== 'false');
  }

  @Get('msg')
  async list(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Query() query: SvixQuery) {
    return this.messages.list(await this.apps.resolve(principal, appId), parseListRequest(query, 'descending'), parseListFilters(query));
  }

  @Get('msg/:msgId')
  async get(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Query() query: SvixQuery) {
    return messageOut(await this.messages.get(await this.apps.resolve(principal, appId), msgId), query.with_content !== 'false');
  }

  @Delete('msg/:msgId/content')
  @HttpCode(204)
  async expunge(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string): Promise<void> {
    await this.messages.expunge(await this.apps.resolve(principal, appId), msgId);
  }

  @Get('attempt/endpoint/:endpointId')
  async attemptsByEndpoint(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') endpointId: string, @Query() query: SvixQuery) {
    return this.messages.attemptsByEndpoint(await this.apps.resolve(principal, appId), endpointId, parseListRequest(query, 'descending'), parseListFilters(query));
  }

  @Get('attempt/msg/:msgId')
  async attemptsByMessage(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Query() query: SvixQuery) {
    return this.messages.attemptsByMessage(await this.apps.resolve(principal, appId), msgId, parseListRequest(query, 'descending'), parseListFilters(query));
  }

  @Get('msg/:msgId/attempt/:attemptId')
  async attempt(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Param('attemptId') attemptId: string) {
    return this.messages.attemptOut(await this.apps.resolve(principal, appId), msgId, attemptId);
  }

  @Delete('msg/:msgId/attempt/:attemptId/content')
  @HttpCode(204)
  async expungeAttempt(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Param('attemptId') attemptId: string): Promise<void> {
    await this.messages.expungeAttempt(await this.apps.resolve(principal, appId), msgId, attemptId);
  }

  @Get('msg/:msgId/endpoint')
  async destinations(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Query() query: SvixQuery) {
    return this.messages.destinations(await this.apps.resolve(principal, appId), msgId, parseListRequest(query, 'ascending'));
  }

  @Get('endpoint/:endpointId/msg')
  async attemptedMessages(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') endpointId: string, @Query() query: SvixQuery) {
    return this.messages.attemptedMessages(await this.apps.resolve(principal, appId), endpointId, parseListRequest(query, 'descending'), parseListFilters(query));
  }

  @Post('msg/:msgId/endpoint/:endpointId/resend')
  @HttpCode(202)
  async resend(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('msgId') msgId: string, @Param('endpointId') endpointId: string) {
    await this.messages.resend(await this.apps.resolve(principal, appId), msgId, endpointId);
    return {};
  }
}
