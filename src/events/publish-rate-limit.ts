import { Inject, Injectable, Logger } from '@nestjs/common';
import { LimitExceededError, RateLimitedError } from '../common/errors';
import { PublishAdmission } from '../rate-limit/publish-admission';
import { REDIS, RedisConnection } from '../redis/redis.module';
import { Tenant } from '../tenants/tenant.entity';

/**
 * How long admission may take before publishing goes ahead without it: a safety net for a hung
 * connection only (Redis down is seen at once from the client's status). Generous, because on a busy
 * event loop a short timer can fire before a reply that has already arrived, and admit a burst.
 */
const ADMISSION_TIMEOUT_MS = 2000;

/**
 * The tenant's publishRateLimitPerSecond, enforced across API processes in Redis (a burst of one
 * second's worth, then the rate). A batch counts each event and is admitted or refused whole.
 * Fails open: PostgreSQL is the truth, and publishing must keep working while Redis is down.
 */
@Injectable()
export class PublishRateLimit {
  private readonly logger = new Logger(PublishRateLimit.name);

  constructor(
    private readonly admission: PublishAdmission,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  async admit(tenant: Tenant, events: number): Promise<void> {
    const rate = tenant.publishRateLimitPerSecond;
    if (!rate || events < 1) return;
    // The allowance holds one second's worth: a larger batch could never be admitted, so no Retry-After.
    if (events > rate) throw new LimitExceededError('events', `${events} events exceed this tenant's publish allowance of ${rate} per second; send batches of at most ${rate}`);
    if (this.redis.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.admission.admit(tenant.id, rate, events),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ADMISSION_TIMEOUT_MS))),
    ])
      .catch((error: Error) => {
        this.logger.warn(`publish rate limit unavailable, admitting: ${error.message}`);
        return null;
      })
      .finally(() => clearTimeout(timer));
    if (!result || result.admitted) return;
    if (!Number.isFinite(result.retryInMs)) throw new LimitExceededError('events', `${events} events exceed this tenant's publish allowance of ${rate} per second`);
    throw new RateLimitedError(`this tenant may publish at most ${rate} events per second; retry later`, result.retryInMs / 1000);
  }
}
