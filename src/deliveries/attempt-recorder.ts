import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isUnavailable } from '../common/error.filter';
import { jsonRows } from '../database/json-rows';
import { prepared, runPrepared } from '../database/prepared';
import { ReleasedHead, releasesLine } from './attempt-plan';
import { Line, releaseLines } from './delivery-store';
import { BodyEncoding } from './response-record';

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
  responseBodyEncoding: BodyEncoding | null;
  responseHeaders: Record<string, string> | null;
  responseHeadersBase64: string[] | null;
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
  /** The key of the delivery's line, when it is in one: finishing it releases the line's next delivery. */
  lineKey?: string | null;
}

/**
 * What became of a record: written (and whether a resend asked for meanwhile now follows, and the new head of its
 * line that finishing it released, to be queued), or not (stale).
 */
export type Recorded = { recorded: false } | { recorded: true; resendFollows: boolean; released: ReleasedHead[] };

/** What one write answers: the attempts written, with whether a resend follows; the heads released, by the record that released them. */
interface Written {
  resend: Map<string, boolean>;
  released: Map<string, ReleasedHead[]>;
}

interface Waiting {
  record: AttemptRecord;
  resolve: (result: Recorded) => void;
  reject: (error: unknown) => void;
}

/** Groups larger than this are split; a group's parameters stay small and its statement quick. */
export const RECORD_GROUP_MAX = 200;

/**
 * Records attempts with group commit: attempts that finish while a group is being written share the
 * next one, which is ONE statement (a data-modifying CTE, atomic on its own): the deliveries move on,
 * the attempt rows are inserted for exactly those that moved, and endpoints to reset are reset.
 *
 * `record` resolves only after its group is committed (recorded, or not: the delivery had already moved on —
 * a duplicate or stale run). A group that fails because PostgreSQL is unreachable fails all its members at once
 * (the caller retries the record, never the request); one that fails on its data is retried member by member,
 * so one bad row cannot fail the others, and a member that still fails is written without the parts of the
 * response that could not be stored, saying so in `error`.
 */
@Injectable()
export class AttemptRecorder {
  private readonly logger = new Logger(AttemptRecorder.name);
  private waiting: Waiting[] = [];
  private flushing = false;
  /** The most attempts one statement writes. */
  groupMax = RECORD_GROUP_MAX;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Attempts waiting for a group (a gauge for metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  record(record: AttemptRecord): Promise<Recorded> {
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
      const written = await this.write(group.map((w) => w.record));
      for (const w of group) w.resolve(resultOf(written, w.record.id));
    } catch (error) {
      // Unreachable or timed out: the others would only wait as long again. Nothing was written (one statement).
      if (isUnavailable(error) || group.length === 1) {
        if (group.length === 1 && !isUnavailable(error)) return this.writeStripped(group[0], error);
        for (const w of group) w.reject(error);
        return;
      }
      // A data error: each member on its own, so one bad row fails only itself.
      this.logger.warn(`a group of ${group.length} attempts failed (${(error as Error).message}); recording them one by one`);
      for (const w of group) {
        try {
          w.resolve(resultOf(await this.write([w.record]), w.record.id));
        } catch (memberError) {
          if (isUnavailable(memberError)) w.reject(memberError);
          else await this.writeStripped(w, memberError);
        }
      }
    }
  }

  /**
   * The request was answered, so it is recorded whatever PostgreSQL refused of the answer: without the response's
   * body and headers, the reason in `error`. Only if that fails too does the caller hear of it.
   */
  private async writeStripped(w: Waiting, cause: unknown): Promise<void> {
    const note = `response not stored: ${((cause as Error).message ?? String(cause)).slice(0, 120)}`;
    const stripped: AttemptRecord = {
      ...w.record,
      responseBody: null,
      responseBodyEncoding: null,
      responseHeaders: null,
      responseHeadersBase64: null,
      error: w.record.error ? `${w.record.error}; ${note}` : note,
    };
    this.logger.warn(`attempt ${w.record.id} of ${w.record.deliveryId} recorded without its response: ${note}`);
    try {
      w.resolve(resultOf(await this.write([stripped]), w.record.id));
    } catch (error) {
      w.reject(error);
    }
  }

  /**
   * Writes the records in one statement. When one of them may finish the head of a line (ordered delivery), that
   * statement runs in a transaction that then releases the lines' next deliveries (releaseLines): the successor is
   * made due in the same transaction that makes its predecessor succeeded or dead. Groups without such a record cost
   * what they always did.
   */
  private async write(records: AttemptRecord[]): Promise<Written> {
    if (!records.some((r) => releasesLine(!!r.lineKey, r.status, false))) return { resend: await this.writeAttempts(this.db, records), released: new Map() };
    return this.db.transaction(async (tx) => {
      const resend = await this.writeAttempts(tx, records);
      const finishing = records.filter((r) => resend.has(r.id) && releasesLine(!!r.lineKey, r.status, resend.get(r.id)!));
      // The record that finished each line (one per line: only a line's head is ever attempted).
      const ownerOf = new Map<string, { line: Line; recordId: string }>();
      for (const r of finishing) {
        const key = `${r.endpointId}\u0000${r.lineKey}`;
        if (!ownerOf.has(key)) ownerOf.set(key, { line: { endpointId: r.endpointId, orderingKey: r.lineKey! }, recordId: r.id });
      }
      const heads = await releaseLines(tx, [...ownerOf.values()].map((o) => o.line));
      const released = new Map<string, ReleasedHead[]>();
      for (const head of heads) {
        const owner = ownerOf.get(`${head.endpointId}\u0000${head.orderingKey}`);
        if (owner) released.set(owner.recordId, [...(released.get(owner.recordId) ?? []), head]);
      }
      return { resend, released };
    });
  }

  /**
   * The one statement: the deliveries move on, the attempt rows are inserted for those that moved, endpoints reset.
   * The group travels as one JSON text (jsonRows): seventeen array parameters cost the worker an escaped literal per
   * element, built in JavaScript (docs/scaling.md, "Where slow receivers on 100 endpoints stop").
   */
  private async writeAttempts(db: DataSource | EntityManager, records: AttemptRecord[]): Promise<Map<string, boolean>> {
    const values = [jsonRows(records.map(toRow)), records.map((r) => r.deliveryId)];
    // Named outside a transaction (src/database/prepared.ts); inside one, unnamed on the transaction's own connection.
    const rows: { id: string; resend: boolean }[] = db instanceof DataSource ? await runPrepared(db, RECORD, values) : await db.query(RECORD.text, values);
    return new Map(rows.map((r) => [r.id, r.resend]));
  }
}

/** A record as one element of RECORD's JSON input: the keys are the columns of its json_to_recordset. */
function toRow(r: AttemptRecord): object {
  return {
    id: r.id,
    delivery_id: r.deliveryId,
    endpoint_id: r.endpointId,
    attempt: r.attempt,
    trigger: r.trigger,
    started_at: r.startedAt,
    duration_ms: Math.round(r.durationMs),
    status_code: r.statusCode,
    response_body: r.responseBody,
    response_headers: r.responseHeaders,
    error: r.error,
    status: r.status,
    next_attempt_at: r.nextAttemptAt,
    last_error: r.lastError,
    reset_health: r.resetEndpointHealth,
    response_body_encoding: r.responseBodyEncoding,
    response_headers_base64: r.responseHeadersBase64,
  };
}

/** The attempt record: see AttemptRecorder.writeAttempts. $1 is the group as JSON, $2 its delivery ids. */
const RECORD = prepared(
  `WITH input AS (
     SELECT * FROM json_to_recordset($1::json)
       AS t(id varchar, delivery_id varchar, endpoint_id varchar, attempt int, trigger varchar, started_at timestamptz, duration_ms int,
            status_code int, response_body text, response_headers jsonb, error text, status varchar, next_attempt_at timestamptz,
            last_error text, reset_health bool, response_body_encoding varchar, response_headers_base64 text[])
   ),
   -- A resend asked for while this attempt was in flight: the delivery stays pending for a manual attempt now.
   updated AS (
     UPDATE deliveries d SET status = CASE WHEN d.resend_requested THEN 'pending' ELSE i.status END,
            attempt_count = i.attempt,
            next_attempt_at = CASE WHEN d.resend_requested THEN now() ELSE i.next_attempt_at END,
            next_trigger = CASE WHEN d.resend_requested THEN 'manual' ELSE 'retry' END,
            resend_requested = false, claimed_until = NULL,
            last_status_code = i.status_code, last_error = i.last_error, updated_at = now()
     FROM input i
     -- (d.status || ''), and d.id = ANY: found by primary key whatever the statistics say, in the partitions
     -- that hold them (see CLAIMABLE and DeliveryStore.claimAny).
     WHERE d.id = i.delivery_id AND d.id = ANY($2::varchar[]) AND (d.status || '') = 'pending' AND d.attempt_count = i.attempt - 1
     RETURNING i.id, d.next_trigger = 'manual' AND d.status = 'pending' AS resend
   ),
   recorded AS (
     SELECT i.*, u.resend FROM input i JOIN updated u ON u.id = i.id
   ),
   reset AS (
     UPDATE endpoints e SET consecutive_failures = 0, failing_since = NULL, circuit_phase = NULL, circuit_until = NULL, circuit_cooldown_ms = NULL
     WHERE e.id IN (SELECT r.endpoint_id FROM recorded r WHERE r.reset_health)
   )
   INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, response_body, response_body_encoding,
                         response_headers, response_headers_base64, error)
   SELECT r.id, r.delivery_id, r.endpoint_id, r.attempt, r.trigger, r.started_at, r.duration_ms, r.status_code, r.response_body, r.response_body_encoding,
          r.response_headers, r.response_headers_base64, r.error
   FROM recorded r
   RETURNING id, (SELECT r.resend FROM recorded r WHERE r.id = attempts.id) AS resend`,
);

function resultOf(written: Written, id: string): Recorded {
  return written.resend.has(id) ? { recorded: true, resendFollows: written.resend.get(id)!, released: written.released.get(id) ?? [] } : { recorded: false };
}
