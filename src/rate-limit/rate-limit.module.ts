import { Module } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { REDIS, RedisConnection } from '../redis/redis.module';
import { InFlightLimiter } from './in-flight';
import { InFlightGate } from './in-flight-gate';
import { PublishAdmission } from './publish-admission';
import { EndpointRateLimiter } from './rate-limiter';
import { SlotReservations } from './slot-reservations';

/**
 * The limiters, on the shared Redis command connection. Their keys carry the queue prefix, so that
 * installations (and test runs) sharing one Redis never share a budget.
 */
@Module({
  providers: [
    { provide: EndpointRateLimiter, inject: [REDIS, CONFIG], useFactory: (redis: RedisConnection, c: HeraldConfig) => new EndpointRateLimiter(redis, `${c.queuePrefix}:rl:`) },
    { provide: InFlightLimiter, inject: [REDIS, CONFIG], useFactory: (redis: RedisConnection, c: HeraldConfig) => new InFlightLimiter(redis, `${c.queuePrefix}:if:`) },
    { provide: PublishAdmission, inject: [REDIS, CONFIG], useFactory: (redis: RedisConnection, c: HeraldConfig) => new PublishAdmission(redis, `${c.queuePrefix}:pub:`) },
    SlotReservations,
    { provide: InFlightGate, inject: [InFlightLimiter], useFactory: (limiter: InFlightLimiter) => new InFlightGate(limiter) },
  ],
  exports: [EndpointRateLimiter, InFlightLimiter, InFlightGate, PublishAdmission, SlotReservations],
})
export class RateLimitModule {}
