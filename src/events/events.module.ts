import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { EventPublisher } from './event-publisher';
import { HeraldEvent } from './event.entity';
import { EventsService } from './events.service';
import { PublishRateLimit } from './publish-rate-limit';

@Module({
  imports: [TypeOrmModule.forFeature([HeraldEvent]), EndpointsModule],
  providers: [EventsService, EventPublisher, PublishRateLimit],
  exports: [EventsService],
})
export class EventsModule {}
