import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { REDIS } from '../redis/redis.module';

/**
 * One sender per attempt at a time. A deferred attempt runs under a new job id, so a duplicate (the
 * sweeper's re-offer of `<deliveryId>:<attempt>`) is not stopped by Bull's job-id check; this claim
 * stops it while the first run is sending. It expires on its own if that worker dies, so delivery
 * stays at-least-once.
 */
@Injectable()
export class AttemptClaim {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** True when this run may send the attempt, false while another run holds it. */
  async take(deliveryId: string, attempt: number, leaseMs: number): Promise<boolean> {
    return (await this.redis.set(this.key(deliveryId, attempt), '1', 'PX', Math.ceil(leaseMs), 'NX')) === 'OK';
  }

  /**
   * Once the attempt is recorded (or given up) the row guards it, so the claim may go. Not awaited:
   * the lease outlasts the send, so the key is still this run's, and a lost DEL only lets it expire.
   */
  release(deliveryId: string, attempt: number): void {
    this.redis.del(this.key(deliveryId, attempt)).catch(() => undefined);
  }

  private key(deliveryId: string, attempt: number): string {
    return `${this.config.queuePrefix}:claim:{${deliveryId}}:${attempt}`;
  }
}
