import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ReplaysModule } from '../replays/replays.module';
import { DeliveryAttempt } from './attempt.entity';
import { DeliveriesService } from './deliveries.service';
import { DeliveryActionsService } from './delivery-actions.service';
import { Delivery } from './delivery.entity';
import { EndpointStatsService } from './endpoint-stats.service';

/** Deliveries and attempts as the API reads and resends them. What only the worker role runs is in DeliveriesWorkerModule. */
@Module({
  imports: [TypeOrmModule.forFeature([Delivery, DeliveryAttempt]), EndpointsModule, RateLimitModule, ReplaysModule],
  providers: [DeliveriesService, EndpointStatsService, DeliveryActionsService],
  exports: [DeliveriesService, EndpointStatsService, DeliveryActionsService],
})
export class DeliveriesModule {}
