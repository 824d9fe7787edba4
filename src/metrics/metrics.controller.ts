import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../access/access.decorators';
import { DeliveryGauges } from './delivery-gauges';
import { MetricsService } from './metrics.service';
import { QueueGauges } from './queue-gauges';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queueGauges: QueueGauges,
    private readonly deliveryGauges: DeliveryGauges,
  ) {}

  @Get()
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    await Promise.all([this.queueGauges.refresh(), this.deliveryGauges.refresh()]);
    return this.metrics.registry.metrics();
  }
}
