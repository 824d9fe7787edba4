import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { REDIS, REDIS_SUBSCRIBER, RedisConnection } from '../redis/redis.module';
import { Endpoint } from './endpoint.entity';
import { PublishedEventFacts, subscribes } from './subscription';

const CHANNEL = 'herald:endpoints:changed';
// Bounds staleness if an invalidation message is missed (Redis down): other processes see a change within this.
const TTL_MS = 5000;

interface Entry<T> {
  value: T;
  at: number;
}

/**
 * Endpoint lookups for the hot paths (fan-out at publish, the worker's attempt), cached per process and
 * invalidated on change: locally at once, in other processes through a Redis message.
 */
@Injectable()
export class EndpointCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EndpointCache.name);
  private readonly byTenant = new Map<string, Entry<Endpoint[]>>();
  private readonly byId = new Map<string, Entry<Endpoint | null>>();
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === CHANNEL) this.forgetLocally(message);
  };

  constructor(
    @InjectRepository(Endpoint) private readonly endpoints: Repository<Endpoint>,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: RedisConnection,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.subscribe(CHANNEL).catch((error: Error) => this.logger.warn(`cannot subscribe to endpoint changes: ${error.message}`));
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
  }

  /** Enabled, live endpoints of the tenant that subscribe to the event. */
  async matching(tenantId: string, event: PublishedEventFacts): Promise<Endpoint[]> {
    const all = await this.enabledOf(tenantId);
    return all.filter((e) => subscribes(e, event));
  }

  async enabledOf(tenantId: string): Promise<Endpoint[]> {
    const hit = this.byTenant.get(tenantId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const value = await this.endpoints.find({ where: { tenantId, disabled: false, deletedAt: IsNull() } });
    this.remember(this.byTenant, tenantId, value);
    return value;
  }

  /** The endpoint, deleted or not; null if it never existed or was purged. */
  async get(id: string): Promise<Endpoint | null> {
    const hit = this.byId.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const value = await this.endpoints.findOneBy({ id });
    this.remember(this.byId, id, value);
    return value;
  }

  /** Call after every change to an endpoint. */
  changed(endpoint: Pick<Endpoint, 'id' | 'tenantId'>): void {
    const message = `${endpoint.tenantId} ${endpoint.id}`;
    this.forgetLocally(message);
    if (this.redis.status === 'ready') this.redis.publish(CHANNEL, message).catch(() => undefined);
  }

  private forgetLocally(message: string): void {
    const [tenantId, id] = message.split(' ');
    this.byTenant.delete(tenantId);
    if (id) this.byId.delete(id);
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, value: T): void {
    if (map.size > 50_000) map.clear();
    map.set(key, { value, at: Date.now() });
  }
}
