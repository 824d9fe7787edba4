import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { Repository } from 'typeorm';
import { isId } from '../common/ids';
import { SecretBox } from '../common/secrets';
import { REDIS, REDIS_SUBSCRIBER } from '../redis/redis.module';
import { Source } from './source.entity';
import { VerifierConfig } from './verifiers';

const CHANNEL = 'herald:sources:changed';
// Bounds staleness if an invalidation message is missed while the subscriber is still connected.
const TTL_MS = 5000;
const MAX_ENTRIES = 50_000;
const SUBSCRIBE_WAIT_MS = 3000;

/** A source as the ingest path needs it: the row and its verifier, opened once (undefined: it cannot be opened). */
export interface OpenedSource {
  source: Source;
  verifier: VerifierConfig | undefined;
}

interface Entry {
  value: OpenedSource | null;
  at: number;
}

/**
 * Sources for /in/{sourceId}, cached per process with their verifier already decrypted, and invalidated on
 * change: locally at once, in other processes through a Redis message. A subscriber that (re)connects
 * may have missed messages, so it empties the whole cache.
 */
@Injectable()
export class SourceCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SourceCache.name);
  private readonly entries = new Map<string, Entry>();
  /** Concurrent misses of one source share one query. */
  private readonly loading = new Map<string, Promise<OpenedSource | null>>();
  /** Bumped by every invalidation: a load that started before one is not kept. */
  private generation = 0;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === CHANNEL) this.forgetLocally(message);
  };
  private readonly onReady = () => this.forgetAll();

  constructor(
    @InjectRepository(Source) private readonly sources: Repository<Source>,
    private readonly box: SecretBox,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  /** Subscribed before the process serves (bounded: without Redis, entries still expire after TTL_MS). */
  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    const subscribed = this.subscriber.subscribe(CHANNEL).then(
      () => true,
      (error: Error) => this.logger.warn(`cannot subscribe to source changes: ${error.message}`),
    );
    const late = new Promise<false>((resolve) => setTimeout(() => resolve(false), SUBSCRIBE_WAIT_MS).unref());
    if ((await Promise.race([subscribed, late])) === false) this.logger.warn('not yet subscribed to source changes; cached sources expire within 5 s meanwhile');
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
  }

  /** The source with its opened verifier; null when there is no such source. */
  async get(id: string): Promise<OpenedSource | null> {
    if (!isId(id, 'src')) return null;
    const hit = this.entries.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const shared = this.loading.get(id);
    if (shared) return shared;
    const pending: Promise<OpenedSource | null> = this.load(id).finally(() => {
      if (this.loading.get(id) === pending) this.loading.delete(id);
    });
    this.loading.set(id, pending);
    return pending;
  }

  /**
   * Call after every change to a source (created, updated, deleted). Resolves once Redis has passed the
   * message on, so a request sent to another process after the change's answer sees the change.
   */
  async changed(id: string): Promise<void> {
    this.forgetLocally(id);
    if (this.redis.status !== 'ready') return;
    await this.redis.publish(CHANNEL, id).catch((error: Error) => this.logger.warn(`could not announce a source change; other processes see it within 5 s: ${error.message}`));
  }

  /** Drops this process's copy only (the row is known to be gone already). */
  forget(id: string): void {
    this.forgetLocally(id);
  }

  private async load(id: string): Promise<OpenedSource | null> {
    const generation = this.generation;
    const source = await this.sources.findOneBy({ id });
    const value = source ? { source, verifier: this.openVerifier(source) } : null;
    if (generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(id, { value, at: Date.now() });
    }
    return value;
  }

  private openVerifier(source: Source): VerifierConfig | undefined {
    try {
      return JSON.parse(this.box.open(source.verifierSealed)) as VerifierConfig;
    } catch {
      // A sealed config from another encryption key, or corrupted: fail closed, without details.
      this.logger.warn(`source ${source.id}: its verifier could not be opened (was HERALD_ENCRYPTION_KEY changed?)`);
      return undefined;
    }
  }

  private forgetLocally(id: string): void {
    this.generation++;
    this.entries.delete(id);
    // a load already running may have read the old row: later callers start a new one
    this.loading.delete(id);
  }

  private forgetAll(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }
}
