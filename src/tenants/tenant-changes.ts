import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS, REDIS_SUBSCRIBER } from '../redis/redis.module';

const CHANNEL = 'herald:tenants:changed';

/** What another process must forget: a tenant (by id and uid), or everything (missed messages). */
export type TenantChange = { tenantId: string; uid?: string | null } | 'all';

/**
 * Tells every process that a tenant changed, was deleted, or lost a key, so that their tenant and API-key
 * caches forget it at once (not after their TTL). When the subscriber (re)connects, messages may have been
 * missed while it was away, so every listener forgets everything.
 */
@Injectable()
export class TenantChanges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TenantChanges.name);
  private readonly listeners: ((change: TenantChange) => void)[] = [];
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== CHANNEL) return;
    const [tenantId, uid] = message.split(' ');
    this.emit({ tenantId, uid: uid || null });
  };
  private readonly onReady = () => this.emit('all');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  onModuleInit(): void {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.subscribe(CHANNEL).catch((error: Error) => this.logger.warn(`cannot subscribe to tenant changes: ${error.message}`));
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
  }

  listen(listener: (change: TenantChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Forgets the tenant here at once, and in other processes when they get the message. Awaited (bounded)
   * so that a 204 for a delete is answered once the other processes have been told, when Redis is up.
   */
  async changed(tenant: { id: string; uid?: string | null }): Promise<void> {
    this.emit({ tenantId: tenant.id, uid: tenant.uid ?? null });
    if (this.redis.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.redis.publish(CHANNEL, `${tenant.id} ${tenant.uid ?? ''}`).catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 1000))),
    ]).finally(() => clearTimeout(timer));
  }

  private emit(change: TenantChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
