import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One attempt's row and the state its delivery moves to. */
export interface AttemptRecord {
  /** The attempt row's id (newId('att')); also how the caller's row is told apart within a group. */
  id: string;
  deliveryId: string;
  endpointId: string;
  /** Recorded only if the delivery is still pending with attempt_count = attempt - 1. */
  attempt: number;
  trigger: string;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  responseHeaders: Record<string, string> | null;
  error: string | null;
  /** The delivery's new status, next attempt time and last error. */
  status: 'succeeded' | 'pending' | 'dead';
  nextAttemptAt: Date | null;
  lastError: string | null;
  /**
   * A success on an endpoint with failures, a failing-since time or a circuit to clear: its health
   * columns are reset in the same statement (only if this attempt is recorded).
   */
  resetEndpointHealth: boolean;
}

interface Waiting {
  record: AttemptRecord;
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}

/** Groups larger than this are split; a group's parameters stay small and its statement quick. */
export const RECORD_GROUP_MAX = 200;

/**
 * Records attempts with group commit: attempts that finish while a group is being written share the
 * next one, which is ONE statement (a data-modifying CTE, atomic on its own): the deliveries move on,
 * the attempt rows are inserted for exactly those that moved, and endpoints to reset are reset.
 *
 * `record` resolves only after its group is committed (true: recorded; false: the delivery had already
 * moved on — a duplicate or stale run), so a job completes only once its attempt is durable. A group that
 * fails is retried member by member, so one bad row cannot fail the others; a member that fails alone
 * rejects (its job fails, Bull retries it, the sweeper is the backstop).
 */
@Injectable()
export class AttemptRecorder {
  private readonly logger = new Logger(AttemptRecorder.name);
  private waiting: Waiting[] = [];
  private flushing = false;
  /** The most attempts one statement writes. */
  groupMax = RECORD_GROUP_MAX;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  record(record: AttemptRecord): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      this.schedule();
    });
  }

  /** One group at a time: a second would only wait for the first's locks and fsync inside PostgreSQL. */
  private schedule(): void {
    if (this.flushing || this.waiting.length === 0) return;
    const group = this.waiting.splice(0, this.groupMax);
    this.flushing = true;
    void this.writeGroup(group).finally(() => {
      this.flushing = false;
      this.schedule();
    });
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    try {
      const recorded = await this.write(group.map((w) => w.record));
      for (const w of group) w.resolve(recorded.has(w.record.id));
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      // Nothing of the group was written (one statement): each member on its own, so one bad row fails only itself.
      this.logger.warn(`a group of ${group.length} attempts failed (${(error as Error).message}); recording them one by one`);
      for (const w of group) {
        await this.write([w.record]).then((recorded) => w.resolve(recorded.has(w.record.id)), w.reject);
      }
    }
  }

  /** Writes the records in one statement; returns the ids of the attempt rows inserted. */
  private async write(records: AttemptRecord[]): Promise<Set<string>> {
    const rows: { id: string }[] = await this.db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::int[], $5::varchar[], $6::timestamptz[], $7::int[], $8::int[],
                              $9::text[], $10::jsonb[], $11::text[], $12::varchar[], $13::timestamptz[], $14::text[], $15::bool[])
           AS t(id, delivery_id, endpoint_id, attempt, trigger, started_at, duration_ms, status_code,
                response_body, response_headers, error, status, next_attempt_at, last_error, reset_health)
       ),
       updated AS (
         UPDATE deliveries d SET status = i.status, attempt_count = i.attempt, next_attempt_at = i.next_attempt_at, next_trigger = 'retry',
                last_status_code = i.status_code, last_error = i.last_error, updated_at = now()
         FROM input i
         WHERE d.id = i.delivery_id AND d.status = 'pending' AND d.attempt_count = i.attempt - 1
         RETURNING i.id
       ),
       recorded AS (
         SELECT i.* FROM input i JOIN updated u ON u.id = i.id
       ),
       reset AS (
         UPDATE endpoints e SET consecutive_failures = 0, failing_since = NULL, circuit_phase = NULL, circuit_until = NULL, circuit_cooldown_ms = NULL
         WHERE e.id IN (SELECT r.endpoint_id FROM recorded r WHERE r.reset_health)
       )
       INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, response_body, response_headers, error)
       SELECT r.id, r.delivery_id, r.endpoint_id, r.attempt, r.trigger, r.started_at, r.duration_ms, r.status_code, r.response_body, r.response_headers, r.error
       FROM recorded r
       RETURNING id`,
      [
        records.map((r) => r.id),
        records.map((r) => r.deliveryId),
        records.map((r) => r.endpointId),
        records.map((r) => r.attempt),
        records.map((r) => r.trigger),
        records.map((r) => r.startedAt),
        records.map((r) => Math.round(r.durationMs)),
        records.map((r) => r.statusCode),
        records.map((r) => r.responseBody),
        records.map((r) => (r.responseHeaders ? JSON.stringify(r.responseHeaders) : null)),
        records.map((r) => r.error),
        records.map((r) => r.status),
        records.map((r) => r.nextAttemptAt),
        records.map((r) => r.lastError),
        records.map((r) => r.resetEndpointHealth),
      ],
    );
    return new Set(rows.map((r) => r.id));
  }
}
