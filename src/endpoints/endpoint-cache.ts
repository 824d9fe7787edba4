import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';

import { DataSource, IsNull, Repository } from 'typeorm';
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

/** A tenant's enabled endpoints, and the tenant's endpoints_version read before them (see `verify` in the publisher). */
export interface TenantEndpoints {
  endpoints: Endpoint[];
  version: string;
}

/**
 * Endpoint lookups for the hot paths (fan-out at publish, the worker's attempt), cached per process and
 * invalidated on change: locally at once, in other processes through a Redis message.
 */
@Injectable()
export class EndpointCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EndpointCache.name);
  private readonly byTenant = new Map<string, Entry<TenantEndpoints>>();
  private readonly byId = new Map<string, Entry<Endpoint | null>>();
  /** Lookups by id under way, shared by every caller that misses meanwhile. */
  private readonly loading = new Map<string, Promise<Endpoint | null>>();
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === CHANNEL) this.forgetLocally(message);
  };
  /** Messages sent while the subscriber was disconnected are lost: everything is forgotten on every (re)connect. */
  private readonly onReady = () => this.forgetAll();

  constructor(
    @InjectRepository(Endpoint) private readonly endpoints: Repository<Endpoint>,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: RedisConnection,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.subscribe(CHANNEL).catch((error: Error) => this.logger.warn(`cannot subscribe to endpoint changes: ${error.message}`));
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
  }

  /** Enabled, live endpoints of the tenant that subscribe to the event, and the version of the list they come from. */
  async matching(tenantId: string, event: PublishedEventFacts): Promise<{ endpoints: Endpoint[]; version: string }> {
    const all = await this.enabledOf(tenantId);
    return { endpoints: all.endpoints.filter((e) => subscribes(e, event)), version: all.version };
  }

  /** `fresh`: read from PostgreSQL even when cached (a publish that holds the tenant's list still). */
  async enabledOf(tenantId: string, fresh = false): Promise<TenantEndpoints> {
    const hit = this.byTenant.get(tenantId);
    if (!fresh && hit && Date.now() - hit.at < TTL_MS) return hit.value;
    // The version first: a list read after it is at least as new, so a version that still matches at publish
    // time proves the list complete.
    const [row]: { endpoints_version: string }[] = await this.db.query('SELECT endpoints_version::text FROM tenants WHERE id = $1', [tenantId]);
    const endpoints = await this.endpoints.find({ where: { tenantId, disabled: false, deletedAt: IsNull() } });
    const value = { endpoints, version: row?.endpoints_version ?? '0' };
    this.remember(this.byTenant, tenantId, value);
    return value;
  }

  /** Forgets a tenant's list (publishing found its version stale). */
  forgetTenant(tenantId: string): void {
    this.byTenant.delete(tenantId);
  }

  /**
   * The endpoint, deleted or not; null if it never existed or was purged. Lookups that miss while one for the same
   * id is under way share it: when an entry runs out, every job of a busy endpoint asks at once (a claim batch wakes
   * dozens in one tick), and each used to run its own SELECT. A lookup forgotten while under way (the endpoint
   * changed) is not remembered, and the next one reads again.
   */
  get(id: string): Promise<Endpoint | null> {
    const hit = this.byId.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return Promise.resolve(hit.value);
    const pending = this.loading.get(id);
    if (pending) return pending;
    const load = this.endpoints.findOneBy({ id }).then(
      (value) => {
        if (this.loading.get(id) === load) {
          this.loading.delete(id);
          this.remember(this.byId, id, value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(id) === load) this.loading.delete(id);
        throw error;
      },
    );
    this.loading.set(id, load);
    return load;
  }

  /** Call after every change to an endpoint. */
  changed(endpoint: Pick<Endpoint, 'id' | 'tenantId'>): void {
    const message = `${endpoint.tenantId} ${endpoint.id}`;
    this.forgetLocally(message);
    if (this.redis.status === 'ready') this.redis.publish(CHANNEL, message).catch(() => undefined);
  }

  private forgetAll(): void {
    this.byTenant.clear();
    this.byId.clear();
    this.loading.clear();
  }

  private forgetLocally(message: string): void {
    const [tenantId, id] = message.split(' ');
    this.byTenant.delete(tenantId);
    if (id) {
      this.byId.delete(id);
      this.loading.delete(id);
    }
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, value: T): void {
    if (map.size > 50_000) map.clear();
    map.set(key, { value, at: Date.now() });
  }
}
