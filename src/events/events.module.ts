import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventTypesModule } from '../event-types/event-types.module';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { EventPublisher } from './event-publisher';
import { HeraldEvent } from './event.entity';
import { EventsService } from './events.service';
import { PublishRateLimit } from './publish-rate-limit';

@Module({
  imports: [TypeOrmModule.forFeature([HeraldEvent]), EndpointsModule, RateLimitModule, EventTypesModule],
  providers: [EventsService, EventPublisher, PublishRateLimit],
  exports: [EventsService],
})
export class EventsModule {}
