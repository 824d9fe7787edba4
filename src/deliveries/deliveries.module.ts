import { Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { OperatorEventsModule } from '../operator-events/operator-events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ReplaysModule } from '../replays/replays.module';
import { AttemptClaim } from './attempt-claim';
import { DeliveryAttempt } from './attempt.entity';
import { parseAllowList } from './address-guard';
import { DeliveriesService } from './deliveries.service';
import { Delivery } from './delivery.entity';
import { AttemptRecorder } from './attempt-recorder';
import { DeliveryStateLoader } from './delivery-state-loader';
import { DeliveryWorker } from './delivery-worker';
import { EndpointStatsService } from './endpoint-stats.service';
import { HttpSender } from './http-sender';

@Module({
  imports: [TypeOrmModule.forFeature([Delivery, DeliveryAttempt]), EndpointsModule, RateLimitModule, OperatorEventsModule, ReplaysModule],
  providers: [
    DeliveriesService,
    DeliveryWorker,
    AttemptClaim,
    AttemptRecorder,
    DeliveryStateLoader,
    EndpointStatsService,
    {
      provide: HttpSender,
      inject: [CONFIG],
      useFactory: (config: HeraldConfig) => new HttpSender({ allow: parseAllowList(config.allowPrivateNetworks), userAgent: `Herald/${config.version}` }),
    },
  ],
  exports: [DeliveriesService, DeliveryWorker, EndpointStatsService],
})
export class DeliveriesModule implements OnApplicationShutdown {
  constructor(private readonly sender: HttpSender) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
