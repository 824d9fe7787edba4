import { Module } from '@nestjs/common';
import { DeliveriesModule } from './deliveries.module';
import { DeliveryProcessor } from './delivery.processor';
import { DeliverySweeper } from './delivery-sweeper';
import { RetentionPurge } from './retention-purge';

/** What only the worker role runs: the queue consumers, the sweeper and the retention purge. */
@Module({
  imports: [DeliveriesModule],
  providers: [DeliveryProcessor, DeliverySweeper, RetentionPurge],
  exports: [DeliverySweeper],
})
export class DeliveriesWorkerModule {}
