import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { EventPublisher } from './event-publisher';
import { HeraldEvent } from './event.entity';
import { EventsService } from './events.service';
import { PublishRateLimit } from './publish-rate-limit';

@Module({
  imports: [TypeOrmModule.forFeature([HeraldEvent]), EndpointsModule, RateLimitModule],
  providers: [EventsService, EventPublisher, PublishRateLimit],
  exports: [EventsService],
})
export class EventsModule {}
