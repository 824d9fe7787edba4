import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isId } from '../common/ids';
import { SecretBox } from '../common/secrets';
import { REDIS, RedisConnection } from '../redis/redis.module';
import { Source } from './source.entity';
import { VerifierConfig } from './verifiers';

/** Each source's version: set anew after every change, read by every request before it trusts a cached copy. */
const versionKey = (id: string) => `herald:source:${id}:version`;
/** A deleted source's version outlives every copy cached before the delete (VERIFIED_TTL_MS). */
const TOMBSTONE_SECONDS = 3600;
/** How long a copy whose version was just checked may be kept (bounds memory, not correctness). */
const VERIFIED_TTL_MS = 60_000;
/** How long a copy is trusted when its version cannot be read (Redis is away). */
const UNVERIFIED_TTL_MS = 5000;
const MAX_ENTRIES = 50_000;

/** A source as the ingest path needs it: the row and its verifier, opened once (undefined: it cannot be opened). */
export interface OpenedSource {
  source: Source;
  verifier: VerifierConfig | undefined;
}

/** A source's version in Redis: null when it was never bumped (or Redis lost it); UNKNOWN when Redis cannot answer. */
export type SourceVersion = string | null | typeof UNKNOWN;
export const UNKNOWN = Symbol('unknown version');

export interface CachedSource {
  value: OpenedSource | null;
  /** The version read before the row was loaded. */
  version: SourceVersion;
  at: number;
}

/**
 * Whether a cached copy may answer a request. With the version known, a copy is good while its version is
 * current (every change bumps it after it commits, so a request that follows the change's answer sees it);
 * without it, only for a few seconds.
 */
export function isFresh(entry: CachedSource, current: SourceVersion, now: number): boolean {
  const age = now - entry.at;
  if (current === UNKNOWN) return age < UNVERIFIED_TTL_MS;
  return entry.version === current && age < VERIFIED_TTL_MS;
}

/**
 * Sources for /in/{sourceId}, cached per process with their verifier already decrypted. Every request reads
 * the source's version from Redis (one GET) and reloads the row when it moved, so a change made through any
 * process holds for the very next request everywhere. Without Redis, copies expire within 5 s.
 */
@Injectable()
export class SourceCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SourceCache.name);
  private readonly entries = new Map<string, CachedSource>();
  /** Concurrent misses of one source at one version share one query. */
  private readonly loading = new Map<string, { version: SourceVersion; promise: Promise<OpenedSource | null> }>();
  /** Changes whose bump did not reach Redis: bumped once it is back. */
  private readonly unannounced = new Set<string>();
  private readonly onReady = () => void this.announceMissed();

  constructor(
    @InjectRepository(Source) private readonly sources: Repository<Source>,
    private readonly box: SecretBox,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    this.redis.on('ready', this.onReady);
  }

  onModuleDestroy(): void {
    this.redis.off('ready', this.onReady);
  }

  /** The source with its opened verifier; null when there is no such source. */
  async get(id: string): Promise<OpenedSource | null> {
    if (!isId(id, 'src')) return null;
    const version = await this.version(id);
    const hit = this.entries.get(id);
    if (hit && isFresh(hit, version, Date.now())) return hit.value;
    const shared = this.loading.get(id);
    if (shared && shared.version === version) return shared.promise;
    const promise: Promise<OpenedSource | null> = this.load(id, version).finally(() => {
      if (this.loading.get(id)?.promise === promise) this.loading.delete(id);
    });
    this.loading.set(id, { version, promise });
    return promise;
  }

  /**
   * Call after every change to a source (created, updated, deleted) has committed, before answering: once it
   * resolves, every process's next request for the source reloads it. When Redis cannot take the bump, other
   * processes see the change within 5 s if they cannot reach Redis either, and once Redis is back otherwise.
   */
  async changed(id: string, deleted = false): Promise<void> {
    this.entries.delete(id);
    this.loading.delete(id);
    if (!(await this.bump(id, deleted))) this.unannounced.add(id);
  }

  /** Drops this process's copy only (the row is known to be gone already). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private async version(id: string): Promise<SourceVersion> {
    if (this.redis.status !== 'ready') return UNKNOWN;
    return this.redis.get(versionKey(id)).catch(() => UNKNOWN);
  }

  private async bump(id: string, deleted: boolean): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    // A new random value, never a counter: after Redis lost the keys a counter would start again and could repeat the
    // version a process holds with its old copy.
    const version = randomUUID();
    const bumped = deleted ? this.redis.set(versionKey(id), version, 'EX', TOMBSTONE_SECONDS) : this.redis.set(versionKey(id), version);
    return bumped.then(
      () => true,
      (error: Error) => {
        this.logger.warn(`could not announce a change of source ${id}: ${error.message}`);
        return false;
      },
    );
  }

  private async announceMissed(): Promise<void> {
    for (const id of [...this.unannounced]) {
      this.unannounced.delete(id);
      // the row tells whether it was a delete
      const exists = await this.sources.existsBy({ id }).catch(() => true);
      if (!(await this.bump(id, !exists))) this.unannounced.add(id);
    }
  }

  private async load(id: string, version: SourceVersion): Promise<OpenedSource | null> {
    const source = await this.sources.findOneBy({ id });
    const value = source ? { source, verifier: this.openVerifier(source) } : null;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(id, { value, version, at: Date.now() });
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
}
