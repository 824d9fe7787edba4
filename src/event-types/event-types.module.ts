import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventPayloadValidator } from './event-payload-validator';
import { EventType } from './event-type.entity';
import { EventTypesService } from './event-types.service';

/** The event-type catalog. Its HTTP routes are registered by ApiModule. */
@Module({
  imports: [TypeOrmModule.forFeature([EventType])],
  providers: [EventTypesService, EventPayloadValidator],
  exports: [EventTypesService, EventPayloadValidator],
})
export class EventTypesModule {}
