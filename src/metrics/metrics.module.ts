import { Global, Module } from '@nestjs/common';
import { DeliveryGauges } from './delivery-gauges';
import { MetricsService } from './metrics.service';
import { QueueGauges } from './queue-gauges';

@Global()
@Module({ providers: [MetricsService, QueueGauges, DeliveryGauges], exports: [MetricsService, QueueGauges, DeliveryGauges] })
export class MetricsModule {}
