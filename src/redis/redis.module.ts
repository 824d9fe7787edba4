import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';

/** The shared command connection: Bull's `client`, rate limits, cache invalidation messages. */
export const REDIS = Symbol('Redis');
/** The shared subscriber connection (Bull's and our own pub/sub). */
export const REDIS_SUBSCRIBER = Symbol('RedisSubscriber');

export function connectRedis(url: string, role: 'client' | 'subscriber' | 'bclient'): Redis {
  // Bull needs subscriber/blocking connections to retry forever; commands on the client fail fast
  // when Redis is gone so that the API keeps answering from PostgreSQL alone.
  return new Redis(url, {
    maxRetriesPerRequest: role === 'client' ? 2 : null,
    enableReadyCheck: role === 'client',
    enableOfflineQueue: true,
    connectionName: `herald-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [CONFIG], useFactory: (c: HeraldConfig) => connectRedis(c.redisUrl, 'client') },
    { provide: REDIS_SUBSCRIBER, inject: [CONFIG], useFactory: (c: HeraldConfig) => connectRedis(c.redisUrl, 'subscriber') },
  ],
  exports: [REDIS, REDIS_SUBSCRIBER],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }
}
