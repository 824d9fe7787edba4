import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  EndpointHeadersIn,
  EndpointHeadersPatchIn,
  EndpointIn,
  EndpointPatchIn,
  EndpointSecretRotateIn,
  EndpointUpdateIn,
  EventExampleIn,
  RecoverIn,
} from './dto/svix-inputs.dto';
import { SvixApi } from './svix-api';
import { SvixApplications } from './svix-applications.service';
import { Principal, SvixPrincipal } from './svix-auth';
import { SvixBody } from './svix-body.pipe';
import { SvixEndpoints } from './svix-endpoints.service';
import { SvixExamples } from './svix-examples.service';
import { parseListRequest } from './svix-list';

type SvixQuery = Record<string, string | undefined>;

@SvixApi()
@Controller('api/v1/app/:appId/endpoint')
export class SvixEndpointsController {
  constructor(
    private readonly apps: SvixApplications,
    private readonly endpoints: SvixEndpoints,
    private readonly examples: SvixExamples,
  ) {}

  @Get()
  @ApiOperation({ summary: "List an application's endpoints, newest first by default" })
  async list(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Query() query: SvixQuery) {
    return this.endpoints.list(await this.apps.resolve(principal, appId), parseListRequest(query, 'descending'));
  }

  @Post()
  @HttpCode(201)
  async create(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Body(new SvixBody(EndpointIn, ['headers', 'metadata'])) body: InstanceType<typeof EndpointIn>) {
    return this.endpoints.create(await this.apps.resolve(principal, appId), body);
  }

  @Get(':endpointId')
  async get(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string) {
    return this.endpoints.get(await this.apps.resolve(principal, appId), id);
  }

  @Put(':endpointId')
  async update(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(EndpointUpdateIn, ['metadata'])) body: InstanceType<typeof EndpointUpdateIn>) {
    return this.endpoints.update(await this.apps.resolve(principal, appId), id, body, true);
  }

  @Patch(':endpointId')
  async patch(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(EndpointPatchIn, ['metadata'])) body: InstanceType<typeof EndpointPatchIn>) {
    return this.endpoints.update(await this.apps.resolve(principal, appId), id, body, false);
  }

  @Delete(':endpointId')
  @HttpCode(204)
  async remove(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string): Promise<void> {
    await this.endpoints.remove(await this.apps.resolve(principal, appId), id);
  }

  @Get(':endpointId/headers')
  async headers(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string) {
    return this.endpoints.headers(await this.apps.resolve(principal, appId), id);
  }

  @Put(':endpointId/headers')
  @HttpCode(204)
  async setHeaders(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(EndpointHeadersIn, ['headers'])) body: InstanceType<typeof EndpointHeadersIn>) {
    await this.endpoints.setHeaders(await this.apps.resolve(principal, appId), id, body, false);
  }

  @Patch(':endpointId/headers')
  @HttpCode(204)
  async patchHeaders(
    @Principal() principal: SvixPrincipal,
    @Param('appId') appId: string,
    @Param('endpointId') id: string,
    @Body(new SvixBody(EndpointHeadersPatchIn, ['headers'])) body: InstanceType<typeof EndpointHeadersPatchIn>,
  ) {
    await this.endpoints.setHeaders(await this.apps.resolve(principal, appId), id, body, true);
  }

  @Get(':endpointId/secret')
  async secret(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string) {
    return this.endpoints.secret(await this.apps.resolve(principal, appId), id);
  }

  /** The old secret keeps signing beside the new one for 24 h (Herald's rotation; gracePeriodSeconds is ignored). */
  @Post(':endpointId/secret/rotate')
  @HttpCode(204)
  async rotate(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(EndpointSecretRotateIn)) body: InstanceType<typeof EndpointSecretRotateIn>) {
    await this.endpoints.rotate(await this.apps.resolve(principal, appId), id, body.key);
  }

  @Post(':endpointId/recover')
  @HttpCode(202)
  async recover(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(RecoverIn)) body: InstanceType<typeof RecoverIn>) {
    return this.endpoints.recover(await this.apps.resolve(principal, appId), id, body);
  }

  @Get(':endpointId/stats')
  async stats(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Query() query: SvixQuery) {
    return this.endpoints.stats(await this.apps.resolve(principal, appId), id, query.since, query.until);
  }

  /** The event type's example (from the catalog) sent to this endpoint alone. */
  @Post(':endpointId/send-example')
  @HttpCode(202)
  async sendExample(@Principal() principal: SvixPrincipal, @Param('appId') appId: string, @Param('endpointId') id: string, @Body(new SvixBody(EventExampleIn)) body: InstanceType<typeof EventExampleIn>) {
    return this.examples.send(await this.apps.resolve(principal, appId), id, body.eventType);
  }
}
