import { BullModule, getQueueToken } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import type { Queue } from 'bull';
import { HeraldConfig } from '../config/config';
import type { Redis } from 'ioredis';
import { connectRedis, RedisConnection } from '../redis/redis.module';
import { LANES } from './delivery-lanes';
import { DELIVERY_QUEUES, DeliveryJob, ShardQueues, deliveryQueueName } from './delivery-queues';
import { DeliveryScheduler } from './delivery-scheduler';
import { closeQueue } from './queue-close';

/**
 * The delivery queues: `HERALD_SHARDS` shards of two lanes each (live and bulk, see delivery-lanes.ts). All share one command and one subscriber connection;
 * only the blocking connection is per queue (Bull needs it so).
 */
/** Every queue adds its listeners to a shared connection. */
function shared<T extends { setMaxListeners(n: number): unknown }>(connection: T): T {
  connection.setMaxListeners(0);
  return connection;
}

@Module({})
export class QueuesModule {
  static forConfig(config: HeraldConfig): DynamicModule {
    // Shard by shard, each shard's lanes in LANES order.
    const names = Array.from({ length: config.shards }, (_, shard) => LANES.map((lane) => deliveryQueueName(shard, lane))).flat();
    let client: RedisConnection | undefined;
    let subscriber: RedisConnection | undefined;
    const registered = BullModule.registerQueue(...names.map((name) => ({ name })));
    return {
      module: QueuesModule,
      global: true,
      imports: [
        BullModule.forRoot({
          // Several Herald installations (or test runs) can share one Redis under different prefixes.
          prefix: config.queuePrefix,
          createClient: (type) => {
            // On a cluster each is an ioredis Cluster; every key of a queue carries its name's hash tag.
            if (type === 'client') return (client ??= shared(connectRedis(config.redis, 'subscriber'))) as Redis;
            if (type === 'subscriber') return (subscriber ??= shared(connectRedis(config.redis, 'subscriber'))) as Redis;
            return connectRedis(config.redis, 'bclient') as Redis;
          },
          settings: {
            // Bull renews a running job's lock every lockRenewTime, so an attempt longer than the lock (timeoutMs
            // ≤ 60 s) keeps it; the lock only runs out when its worker died or froze for lockDuration. Then it
            // bounds how long a killed worker's in-flight deliveries wait before another worker retries them
            // (at most lockDuration + stalledInterval; it was 90 s + 30 s, measured in test/chaos).
            lockDuration: 30_000,
            lockRenewTime: 5_000,
            stalledInterval: 5_000,
            maxStalledCount: 10,
          },
        }),
        registered,
      ],
      providers: [
        {
          // The shared connections are ours to close, after Bull has closed its queues.
          provide: 'QueueConnections',
          useValue: { onApplicationShutdown: () => Promise.allSettled([client?.quit(), subscriber?.quit()]) },
        },
        {
          provide: DELIVERY_QUEUES,
          inject: names.map((name) => getQueueToken(name)),
          useFactory: (...queues: Queue<DeliveryJob>[]): ShardQueues[] => {
            // Nest's shutdown hook for each queue (set by @nestjs/bull) closes it within a bound, not for ever.
            for (const queue of queues) Object.assign(queue, { onApplicationShutdown: () => closeQueue(queue) });
            return Array.from({ length: config.shards }, (_, shard) => Object.fromEntries(LANES.map((lane, i) => [lane, queues[shard * LANES.length + i]])) as ShardQueues);
          },
        },
        DeliveryScheduler,
      ],
      exports: [registered, DELIVERY_QUEUES, DeliveryScheduler],
    };
  }
}
