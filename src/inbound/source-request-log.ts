import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { isForeignKeyViolation } from '../common/error.filter';
import { newId } from '../common/ids';
import { MetricsService } from '../metrics/metrics.service';
import { SourceRequest } from './source-request.entity';

/** One line of a source's request log, as the ingest path hands it over. */
export type SourceRequestEntry = Omit<SourceRequest, 'id' | 'source'>;

/** Rows written per statement. */
const GROUP_MAX = 500;
/** Above this many rows waiting (PostgreSQL down or far behind), the oldest are dropped, counted and logged. */
const WAITING_MAX = 20_000;

// A row whose source was deleted meanwhile is left out: that source's log is gone with it.
const INSERT = `INSERT INTO source_requests (id, tenant_id, source_id, received_at, accepted, status_code, reason, event_id, event_type, provider_event_id, duplicate, content_type, body_bytes)
  SELECT r.* FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::timestamptz[], $5::boolean[], $6::int[], $7::text[], $8::varchar[], $9::varchar[], $10::varchar[], $11::boolean[], $12::varchar[], $13::int[])
    AS r(id, tenant_id, source_id, received_at, accepted, status_code, reason, event_id, event_type, provider_event_id, duplicate, content_type, body_bytes)
  WHERE EXISTS (SELECT 1 FROM sources s WHERE s.id = r.source_id)`;

function params(rows: SourceRequest[]): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.tenantId),
    rows.map((r) => r.sourceId),
    rows.map((r) => r.receivedAt),
    rows.map((r) => r.accepted),
    rows.map((r) => r.statusCode),
    rows.map((r) => r.reason),
    rows.map((r) => r.eventId),
    rows.map((r) => r.eventType),
    rows.map((r) => r.providerEventId),
    rows.map((r) => r.duplicate),
    rows.map((r) => r.contentType),
    rows.map((r) => r.bodyBytes),
  ];
}

/**
 * The request log of inbound sources, written in groups: rows handed over while a write runs share the next
 * multi-row insert, and nobody waits for it. The caller hands a row over only once what it describes is
 * final (an accepted request's event is committed). A row that cannot be written is counted in
 * `herald_inbound_request_log_failures_total` and logged by source id, never with its contents.
 */
@Injectable()
export class SourceRequestLog implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SourceRequestLog.name);
  private waiting: SourceRequest[] = [];
  private writing: Promise<void> | null = null;
  /** Rows handed over, and rows done with (written or counted lost), in order: what `flushed` waits on. */
  private handed = 0;
  private done = 0;
  private flushWaiters: { upTo: number; resolve: () => void }[] = [];
  private readonly failures: Counter;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    metrics: MetricsService,
  ) {
    this.failures = new Counter({
      name: 'herald_inbound_request_log_failures_total',
      help: 'inbound request log rows that could not be written (the requests themselves were answered)',
      registers: [metrics.registry],
    });
  }

  /** Queues the row; its id is taken now, so the log keeps the order in which requests were answered. */
  record(entry: SourceRequestEntry): void {
    this.waiting.push({ id: newId('req'), ...entry, contentType: entry.contentType?.slice(0, 256) ?? null, reason: entry.reason?.slice(0, 1000) ?? null });
    this.handed++;
    if (this.waiting.length > WAITING_MAX) this.finish(this.lose(this.waiting.splice(0, this.waiting.length - WAITING_MAX), 'too many waiting'));
    this.writing ??= this.drain();
  }

  /** Resolves once every row handed over before the call has been written (or counted as lost); later rows are not waited for. */
  flushed(): Promise<void> {
    if (this.done >= this.handed) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ upTo: this.handed, resolve }));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flushed();
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length) {
        const group = this.waiting.splice(0, GROUP_MAX);
        await this.write(group);
        this.finish(group.length);
      }
    } finally {
      this.writing = null;
    }
  }

  private async write(group: SourceRequest[]): Promise<void> {
    try {
      await this.db.query(INSERT, params(group));
    } catch (error) {
      if (group.length === 1) {
        // Its source (source_requests' only foreign key) was deleted after the statement saw it, the delete committing
        // while the row waited on its lock: the source's log went with it, as for a row of a source deleted earlier.
        if (isForeignKeyViolation(error)) return;
        this.lose(group, (error as Error).message);
        return;
      }
      // One bad row (its source deleted meanwhile) must not take the others with it.
      for (const row of group) await this.write([row]);
    }
  }

  private finish(rows: number): void {
    this.done += rows;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (this.done < w.upTo) return true;
      w.resolve();
      return false;
    });
  }

  /** Counts and logs rows that cannot be written (by source id, never their contents); returns how many. */
  private lose(rows: SourceRequest[], why: string): number {
    this.failures.inc(rows.length);
    const sources = [...new Set(rows.map((r) => r.sourceId))].slice(0, 10).join(', ');
    this.logger.warn(`could not write ${rows.length} inbound request log row(s) (sources ${sources}): ${why}`);
    return rows.length;
  }
}
