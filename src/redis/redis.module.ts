import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { connectRedis, RedisConnection } from './redis-connection';

export { connectRedis } from './redis-connection';
export type { RedisConnection } from './redis-connection';

/** The shared command connection: rate limits, leases, claims, cache invalidation messages. */
export const REDIS = Symbol('Redis');
/** The shared subscriber connection (our own pub/sub). */
export const REDIS_SUBSCRIBER = Symbol('RedisSubscriber');

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [CONFIG], useFactory: (c: HeraldConfig) => connectRedis(c.redis, 'client') },
    { provide: REDIS_SUBSCRIBER, inject: [CONFIG], useFactory: (c: HeraldConfig) => connectRedis(c.redis, 'subscriber') },
  ],
  exports: [REDIS, REDIS_SUBSCRIBER],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: RedisConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }
}
