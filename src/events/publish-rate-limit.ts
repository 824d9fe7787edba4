import { Injectable } from '@nestjs/common';
import { Tenant } from '../tenants/tenant.entity';

/** The tenant's publishRateLimitPerSecond (enforced in Redis; see the rate-limit module). */
@Injectable()
export class PublishRateLimit {
  async admit(_tenant: Tenant, _events: number): Promise<void> {
    return;
  }
}
