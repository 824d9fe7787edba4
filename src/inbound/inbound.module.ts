import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../events/events.module';
import { OperatorEventsModule } from '../operator-events/operator-events.module';
import { InboundService } from './inbound.service';
import { SourceCache } from './source-cache';
import { SourceRequestLog } from './source-request-log';
import { SourceRequest } from './source-request.entity';
import { Source } from './source.entity';
import { SourcesService } from './sources.service';

/** Inbound is just another producer: it publishes through EventsService, like the REST API. */
@Module({
  imports: [TypeOrmModule.forFeature([Source, SourceRequest]), EventsModule, OperatorEventsModule],
  providers: [SourcesService, InboundService, SourceCache, SourceRequestLog],
  exports: [SourcesService, InboundService],
})
export class InboundModule {}
