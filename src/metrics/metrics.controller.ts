import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { DELIVERY_QUEUES, DeliveryQueues } from '../queues/delivery-queues';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
  ) {}

  @Get()
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    await this.refreshQueueDepth();
    return this.metrics.registry.metrics();
  }

  private async refreshQueueDepth(): Promise<void> {
    const deadline = new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000).unref());
    await Promise.all(
      this.queues.map(async (queue, shard) => {
        const counts = await Promise.race([queue.getJobCounts().catch(() => null), deadline]);
        if (!counts) return;
        for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ shard: String(shard), state }, n as number);
      }),
    );
  }
}
