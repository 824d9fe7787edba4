import { Module, OnApplicationShutdown } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { OperatorEventsModule } from '../operator-events/operator-events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { parseAllowList } from '../common/address-guard';
import { AttemptRecorder } from './attempt-recorder';
import { DeliveriesModule } from './deliveries.module';
import { DeliveryStore } from './delivery-store';
import { DeliveryWorker } from './delivery-worker';
import { DeliveryProcessor } from './delivery.processor';
import { DeliverySweeper } from './delivery-sweeper';
import { HeldJobs } from './held-jobs';
import { HttpSender } from './http-sender';
import { RetentionPurge } from './retention-purge';
import { PartitionMaintenance } from '../database/partition-maintenance';

/** What only the worker role runs: the queue consumers, the sender, the recorder, the sweeper, the partition maintenance and the retention purge. */
@Module({
  imports: [DeliveriesModule, EndpointsModule, RateLimitModule, OperatorEventsModule],
  providers: [
    DeliveryProcessor,
    DeliveryWorker,
    DeliveryStore,
    AttemptRecorder,
    DeliverySweeper,
    HeldJobs,
    RetentionPurge,
    PartitionMaintenance,
    {
      provide: HttpSender,
      inject: [CONFIG],
      useFactory: (config: HeraldConfig) => new HttpSender({ allow: parseAllowList(config.allowPrivateNetworks), userAgent: `Herald/${config.version}` }),
    },
  ],
  exports: [DeliverySweeper, DeliveryWorker],
})
export class DeliveriesWorkerModule implements OnApplicationShutdown {
  constructor(private readonly sender: HttpSender) {}

  /** After every attempt has settled (the processor drains first): what undici still holds is closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
