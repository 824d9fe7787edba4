import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ACCESS, AdminOnly, Capability } from '../access/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { Page } from '../common/pagination';
import { CreateEventTypeDto, EventTypeQuery, EventTypeView, UpdateEventTypeDto } from './dto/event-type.dto';
import { EventTypesService } from './event-types.service';

/** Any valid key, admin or tenant: tenants read the shared catalog (the guard checks the key, no tenant path). */
const AnyKey = () => SetMetadata(ACCESS, 'tenant');

@ApiTags('event types')
@ApiErrors()
@ApiBearerAuth()
@Controller('v1/event-types')
export class EventTypesController {
  constructor(private readonly types: EventTypesService) {}

  @Post()
  @AdminOnly()
  @ApiResponse({ status: 201, type: EventTypeView })
  @ApiResponse({ status: 409, description: 'a type of that name exists' })
  @HttpCode(201)
  create(@Body() dto: CreateEventTypeDto): Promise<EventTypeView> {
    return this.types.create(dto);
  }

  @Get()
  @AnyKey()
  @Capability('read')
  list(@Query() query: EventTypeQuery): Promise<Page<EventTypeView>> {
    return this.types.list(query);
  }

  @Get(':name')
  @AnyKey()
  @Capability('read')
  @ApiResponse({ status: 200, type: EventTypeView })
  async get(@Param('name') name: string): Promise<EventTypeView> {
    return EventTypeView.of(await this.types.get(name));
  }

  @Patch(':name')
  @AdminOnly()
  @ApiResponse({ status: 200, type: EventTypeView })
  update(@Param('name') name: string, @Body() dto: UpdateEventTypeDto): Promise<EventTypeView> {
    return this.types.update(name, dto);
  }

  /** Removes the type from the catalog; events already published keep their type. */
  @Delete(':name')
  @AdminOnly()
  @HttpCode(204)
  remove(@Param('name') name: string): Promise<void> {
    return this.types.remove(name);
  }
}
