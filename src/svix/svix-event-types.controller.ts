import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { InvalidInputError } from '../common/errors';
import { EventTypesService } from '../event-types/event-types.service';
import { EventTypeIn, EventTypePatchIn, EventTypeUpdateIn } from './dto/svix-inputs.dto';
import { SvixApi } from './svix-api';
import { Principal, SvixPrincipal, requireAdmin } from './svix-auth';
import { SvixBody } from './svix-body.pipe';
import { parseListRequest } from './svix-list';
import { catalogSchema, eventTypeOut } from './svix-views';

type SvixQuery = Record<string, string | undefined>;

/** Svix's event types are Herald's catalog; `schemas: {"1": …}` is the catalog's one schema (its examples[0] the example). */
@SvixApi()
@Controller('api/v1/event-type')
export class SvixEventTypesController {
  constructor(private readonly types: EventTypesService) {}

  @Get()
  async list(@Query() query: SvixQuery) {
    const request = parseListRequest(query, 'ascending');
    const page = await this.types.page({ limit: request.limit, after: request.from, descending: request.direction === 'DESC', includeArchived: query.include_archived === 'true' });
    const rows = request.backwards ? [...page.data].reverse() : page.data;
    const withContent = query.with_content === 'true';
    return {
      data: rows.map((t) => eventTypeOut(t, withContent)),
      iterator: rows.length ? rows[rows.length - 1].name : null,
      prevIterator: rows.length ? `-${rows[0].name}` : null,
      done: !page.more,
    };
  }

  @Post()
  @HttpCode(201)
  async create(@Principal() principal: SvixPrincipal, @Body(new SvixBody(EventTypeIn, ['schemas'])) body: InstanceType<typeof EventTypeIn>) {
    requireAdmin(principal);
    await this.types.create({ name: body.name, description: body.description, ...catalogSchema(body.schemas), archived: body.archived, deprecated: body.deprecated });
    return eventTypeOut(await this.types.get(body.name));
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    return eventTypeOut(await this.types.get(name));
  }

  /** PUT creates the type when it is missing, as Svix's does. */
  @Put(':name')
  async update(@Principal() principal: SvixPrincipal, @Param('name') name: string, @Body(new SvixBody(EventTypeUpdateIn, ['schemas'])) body: InstanceType<typeof EventTypeUpdateIn>) {
    requireAdmin(principal);
    const fields = { description: body.description, ...catalogSchema(body.schemas), archived: body.archived ?? false, deprecated: body.deprecated ?? false };
    const exists = await this.types.get(name).then(
      () => true,
      () => false,
    );
    if (exists) await this.types.update(name, fields);
    else {
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) throw InvalidInputError.field('name', 'name must match ^[A-Za-z0-9_.:-]{1,128}$');
      await this.types.create({ name, ...fields });
    }
    return eventTypeOut(await this.types.get(name));
  }

  @Patch(':name')
  async patch(@Principal() principal: SvixPrincipal, @Param('name') name: string, @Body(new SvixBody(EventTypePatchIn, ['schemas'])) body: InstanceType<typeof EventTypePatchIn>) {
    requireAdmin(principal);
    const schema = body.schemas === undefined ? {} : catalogSchema(body.schemas);
    await this.types.update(name, { description: body.description, archived: body.archived, deprecated: body.deprecated, ...schema });
    return eventTypeOut(await this.types.get(name));
  }

  /** Svix archives on delete; `?expunge=true` removes the type. */
  @Delete(':name')
  @HttpCode(204)
  async remove(@Principal() principal: SvixPrincipal, @Param('name') name: string, @Query() query: SvixQuery): Promise<void> {
    requireAdmin(principal);
    if (query.expunge === 'true') await this.types.remove(name);
    else await this.types.update(name, { archived: true });
  }
}
