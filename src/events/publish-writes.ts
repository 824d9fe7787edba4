import { DataSource, EntityManager } from 'typeorm';
import { Endpoint } from '../endpoints/endpoint.entity';
import { WAITING_IN_LINE_AT, takesPlaceInLine } from '../endpoints/ordering';
import { jsonRows } from '../database/json-rows';
import { prepared, runPrepared } from '../database/prepared';

/*
 * What a publish writes, and the statements that write it: events (their idempotency keys first when they carry
 * one), their deliveries, the places of ordered deliveries in their lines, and the check that the endpoint lists
 * fan-out used are still current. EventPublisher decides when and in which transaction; this file says how.
 */

/** One event to publish; `payload` is already serialised: these are the bytes that are signed and sent. */
export interface NewEvent {
  tenantId: string;
  eventType: string;
  payload: string;
  idempotencyKey?: string;
  sourceHeaders?: Record<string, string> | null;
  /** Set by the publisher when tracing is on: the publish request's traceparent, kept for the attempts. */
  traceparent?: string | null;
  /** Only endpoints with a channel in common get it (endpoints without channels get everything). */
  channels?: string[] | null;
  /** Endpoints with ordering "key" deliver the events of one key in publish order, one at a time. */
  orderingKey?: string | null;
}

export interface PublishedEvent {
  id: string;
  eventType: string;
  createdAt: string;
  deliveryCount: number;
}

export interface Row {
  id: string;
  event: NewEvent;
  createdAt: Date;
  /** Set when the idempotency key names an earlier event, or an earlier item of this commit. */
  existing?: PublishedEvent;
  duplicateOf?: Row;
}

export interface NewDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  endpoint: Endpoint;
  eventType: string;
  sendAt?: number;
  /** The event's ordering key (kept on every delivery of the event). */
  orderingKey: string | null;
  /** Its place in the line (endpoint, orderingKey), for an ordered endpoint: set by takePlaces in the publishing transaction. */
  seq?: number;
  /** The event before it in its line. */
  after?: string | null;
  /**
   * A delivery of its line is pending before it: it is written waiting (WAITING_IN_LINE_AT) and not queued; the
   * transaction that finishes the one before it releases it.
   */
  waiting?: boolean;
}

/*
 * Rows travel as one JSON text per statement ($1, jsonRows), read with json_to_recordset: array parameters had
 * node-postgres escape every element of every column in JavaScript, payloads included (a tenth of what the API
 * allocated under batch ingest). A JSON array becomes a text[] column (an event's channels).
 */
const EVENT_COLUMNS = `id varchar, tenant_id varchar, event_type varchar, payload text, idempotency_key varchar, source_headers jsonb,
  created_at timestamptz, trace_context varchar, channels text[]`;

const INSERT_EVENTS = `INSERT INTO events (id, tenant_id, event_type, payload, idempotency_key, source_headers, created_at, trace_context, channels)
  SELECT e.id, e.tenant_id, e.event_type, e.payload, e.idempotency_key, e.source_headers, e.created_at, e.trace_context, e.channels
  FROM json_to_recordset($1::json) AS e(${EVENT_COLUMNS})`;

/**
 * INSERT_EVENTS for a commit holding idempotency keys: each key is taken in event_idempotency_keys first (its
 * primary key makes a concurrent commit of the same key wait for ours, then take nothing), and an event with a key
 * is written only if it took it. Answers the ids written.
 */
const INSERT_KEYED_EVENTS = `WITH taken AS (
    INSERT INTO event_idempotency_keys (tenant_id, key, event_id, created_at)
    SELECT k.tenant_id, k.idempotency_key, k.id, k.created_at FROM json_to_recordset($1::json) AS k(${EVENT_COLUMNS})
    WHERE k.idempotency_key IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING event_id)
  ${INSERT_EVENTS} WHERE e.idempotency_key IS NULL OR e.id IN (SELECT event_id FROM taken) RETURNING id`;

/** Parameters of INSERT_EVENTS and of INSERT_DELIVERIES; in the one-statement publish they follow one another, then the version check's. */
const EVENT_PARAMS = 1;
const DELIVERY_PARAMS = 2;

const INSERT_DELIVERIES = `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at,
                          ordering_key, ordering_seq, ordering_after)
  SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id, d.event_type, 'pending', 0, coalesce(d.next_attempt_at, $2), 'initial', $2, $2, d.ordering_key, d.ordering_seq, d.ordering_after
  FROM json_to_recordset($1::json) AS d(id varchar, tenant_id varchar, event_id varchar, endpoint_id varchar, event_type varchar, next_attempt_at timestamptz,
                                        ordering_key varchar, ordering_seq bigint, ordering_after varchar)`;

/** Tenants and the endpoint-list versions fan-out used; ok when every one is still current. */
const CURRENT_VERSIONS = `SELECT coalesce(bool_and(t.endpoints_version::text = x.version), true) AS ok
  FROM unnest($1::varchar[], $2::text[]) AS x(tenant_id, version) JOIN tenants t ON t.id = x.tenant_id`;

/**
 * Takes places in the lines (endpoint, orderingKey) of a commit: `n` new places in each, the line's row locked until
 * the commit. Rows are taken in the database's order of (endpoint_id, ordering_key), the same order AttemptRecorder
 * locks them in, so two transactions locking several lines cannot deadlock. `previous_event_id` answers the line's
 * latest event before this upsert (the first new delivery's predecessor).
 */
const TAKE_PLACES = `INSERT INTO ordering_lines (endpoint_id, ordering_key, last_seq, last_event_id, previous_event_id, updated_at)
  SELECT t.endpoint_id, t.ordering_key, t.n, t.last_event_id, NULL, now()
  FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::varchar[]) AS t(endpoint_id, ordering_key, n, last_event_id)
  ORDER BY t.endpoint_id, t.ordering_key
  ON CONFLICT (endpoint_id, ordering_key) DO UPDATE
    SET last_seq = ordering_lines.last_seq + excluded.last_seq, previous_event_id = ordering_lines.last_event_id,
        last_event_id = excluded.last_event_id, updated_at = now()
  RETURNING endpoint_id, ordering_key, last_seq::text AS last_seq, previous_event_id`;

function versionParams(versions: Map<string, string>): [string[], string[]] {
  return [[...versions.keys()], [...versions.values()]];
}

/** Delivery rows per INSERT: a large fan-out is written in several bounded statements of one transaction. */
export const DELIVERY_INSERT_ROWS = 5000;

/** Shifts a statement's $n placeholders by `by`, to run it after another's parameters. */
function renumber(sql: string, by: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);
}

function eventParams(rows: Row[]): unknown[] {
  const events = rows.map((r) => ({
    id: r.id,
    tenant_id: r.event.tenantId,
    event_type: r.event.eventType,
    payload: r.event.payload,
    idempotency_key: r.event.idempotencyKey ?? null,
    source_headers: r.event.sourceHeaders ?? null,
    created_at: r.createdAt,
    trace_context: r.event.traceparent ?? null,
    channels: r.event.channels?.length ? r.event.channels : null,
  }));
  return [jsonRows(events)];
}

function deliveryParams(deliveries: NewDelivery[], now: Date): unknown[] {
  const rows = deliveries.map((d) => ({
    id: d.id,
    tenant_id: d.tenantId,
    event_id: d.eventId,
    endpoint_id: d.endpoint.id,
    event_type: d.eventType,
    next_attempt_at: d.waiting ? WAITING_IN_LINE_AT : d.sendAt ? new Date(d.sendAt) : null,
    ordering_key: d.orderingKey,
    ordering_seq: d.seq === undefined ? null : String(d.seq),
    ordering_after: d.after ?? null,
  }));
  return [jsonRows(rows), now];
}

/** Whether a delivery takes a place in a line (its endpoint orders by key and its event has one). */
export function lined(d: NewDelivery): boolean {
  return takesPlaceInLine(d.endpoint.ordering, d.orderingKey);
}

/**
 * Events and their deliveries in one statement (one round trip, one commit), written only if every tenant's
 * endpoint list that fan-out used is still current; false (nothing written) when one turned stale.
 */
const PUBLISH_IN_ONE_STATEMENT = prepared(
  `WITH v AS (${renumber(CURRENT_VERSIONS, EVENT_PARAMS + DELIVERY_PARAMS)}), e AS (${INSERT_EVENTS} WHERE (SELECT ok FROM v)), d AS (${renumber(INSERT_DELIVERIES, EVENT_PARAMS)} WHERE (SELECT ok FROM v)) SELECT ok FROM v`,
);

export async function insertEventsAndDeliveries(db: DataSource, rows: Row[], deliveries: NewDelivery[], versions: Map<string, string>, now: Date): Promise<boolean> {
  const [{ ok }] = await runPrepared<{ ok: boolean }>(db, PUBLISH_IN_ONE_STATEMENT, [...eventParams(rows), ...deliveryParams(deliveries, now), ...versionParams(versions)]);
  return ok;
}

export async function insertEvents(tx: EntityManager, rows: Row[]): Promise<void> {
  await tx.query(INSERT_EVENTS, eventParams(rows));
}

/** The events whose idempotency key this commit took (see INSERT_KEYED_EVENTS): answers the ids written. */
export function insertKeyedEvents(tx: EntityManager, rows: Row[]): Promise<{ id: string }[]> {
  return tx.query(INSERT_KEYED_EVENTS, eventParams(rows));
}

export async function insertDeliveries(tx: EntityManager, deliveries: NewDelivery[], now: Date): Promise<void> {
  for (let i = 0; i < deliveries.length; i += DELIVERY_INSERT_ROWS) {
    await tx.query(INSERT_DELIVERIES, deliveryParams(deliveries.slice(i, i + DELIVERY_INSERT_ROWS), now));
  }
}

/**
 * Gives each delivery to an ordered endpoint its place in its line, in the order of `deliveries` (the order of the
 * events in the commit: a batch's own order). Publish order is the order of these places: see OrderingLine.
 *
 * Then marks the ones that must wait: all but the first of a line in this commit, and the first too when a delivery
 * of its line is still pending. That is read in a statement of its own, after the line's row is locked: its snapshot
 * sees every finish of the line that committed before (a finish locks the line too, see releaseLines), and a finish
 * not yet committed must wait for our commit and then sees our deliveries when it releases the next one.
 */
export async function takePlaces(tx: EntityManager, deliveries: NewDelivery[]): Promise<void> {
  const lines = new Map<string, NewDelivery[]>();
  for (const d of deliveries) {
    if (!lined(d)) continue;
    const key = `${d.endpoint.id}\u0000${d.orderingKey}`;
    const line = lines.get(key);
    if (line) line.push(d);
    else lines.set(key, [d]);
  }
  if (lines.size === 0) return;
  const list = [...lines.values()];
  const taken: { endpoint_id: string; ordering_key: string; last_seq: string; previous_event_id: string | null }[] = await tx.query(TAKE_PLACES, [
    list.map((l) => l[0].endpoint.id),
    list.map((l) => l[0].orderingKey),
    list.map((l) => l.length),
    list.map((l) => l[l.length - 1].eventId),
  ]);
  for (const row of taken) {
    const line = lines.get(`${row.endpoint_id}\u0000${row.ordering_key}`)!;
    const first = Number(row.last_seq) - line.length + 1;
    line.forEach((d, i) => {
      d.seq = first + i;
      d.after = i === 0 ? row.previous_event_id : line[i - 1].eventId;
      d.waiting = i > 0;
    });
  }
  // Only lines that had an event before may have one pending.
  const older = list.filter((l) => l[0].after);
  if (older.length === 0) return;
  const busy: { endpoint_id: string; ordering_key: string }[] = await tx.query(
    `SELECT DISTINCT d.endpoint_id, d.ordering_key FROM deliveries d
     JOIN unnest($1::varchar[], $2::varchar[]) AS x(endpoint_id, ordering_key) ON d.endpoint_id = x.endpoint_id AND d.ordering_key = x.ordering_key
     WHERE d.status = 'pending' AND d.ordering_seq IS NOT NULL`,
    [older.map((l) => l[0].endpoint.id), older.map((l) => l[0].orderingKey)],
  );
  for (const b of busy) lines.get(`${b.endpoint_id}\u0000${b.ordering_key}`)![0].waiting = true;
}

/** In a transaction: holds off changes to the events' tenants' endpoint lists until the commit (fanOut then reads them fresh). */
export async function holdEndpointLists(tx: EntityManager, rows: Row[]): Promise<void> {
  const tenants = [...new Set(rows.map((r) => r.event.tenantId))].sort();
  await tx.query(`SELECT 1 FROM tenants WHERE id = ANY($1::varchar[]) ORDER BY id FOR SHARE`, [tenants]);
}

/** In a transaction: the tenants' endpoint lists are still those fan-out used; FOR SHARE holds off changes (their trigger updates the tenant row) until the commit. */
export async function versionsCurrent(tx: EntityManager, versions: Map<string, string>): Promise<boolean> {
  const [tenants, current] = versionParams(versions);
  if (tenants.length === 0) return true;
  const locked: { id: string; version: string }[] = await tx.query(`SELECT id, endpoints_version::text AS version FROM tenants WHERE id = ANY($1::varchar[]) FOR SHARE`, [tenants]);
  return locked.every((t) => t.version === current[tenants.indexOf(t.id)]);
}

/**
 * Marks rows whose idempotency key was used in the last 24 h (or earlier in this commit).
 * Keys older than 24 h are released first so they can be used again.
 */
export async function resolveIdempotency(tx: EntityManager, rows: Row[], afterConflict = false): Promise<void> {
  const keyed = rows.filter((r) => r.event.idempotencyKey);
  if (keyed.length === 0) return;
  const firstByKey = new Map<string, Row>();
  for (const row of keyed) {
    const key = `${row.event.tenantId}\u0000${row.event.idempotencyKey}`;
    const first = firstByKey.get(key);
    if (first && !afterConflict) row.duplicateOf = first;
    else firstByKey.set(key, row);
  }
  const tenants = keyed.map((r) => r.event.tenantId);
  const keys = keyed.map((r) => r.event.idempotencyKey!);
  if (!afterConflict) {
    await tx.query(
      `WITH released AS (
         DELETE FROM event_idempotency_keys i USING unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key)
         WHERE i.tenant_id = k.tenant_id AND i.key = k.key AND i.created_at < now() - interval '24 hours' RETURNING i.event_id)
       UPDATE events e SET idempotency_key = NULL FROM released WHERE e.id = released.event_id`,
      [tenants, keys],
    );
  }
  const found: { id: string; tenant_id: string; idempotency_key: string; event_type: string; created_at: Date; delivery_count: number }[] = await tx.query(
    `SELECT e.id, e.tenant_id, e.idempotency_key, e.event_type, e.created_at,
            (SELECT count(*)::int FROM deliveries d WHERE d.event_id = e.id) AS delivery_count
     FROM unnest($1::varchar[], $2::varchar[]) AS k(tenant_id, key)
     JOIN event_idempotency_keys i ON i.tenant_id = k.tenant_id AND i.key = k.key
     JOIN events e ON e.id = i.event_id`,
    [tenants, keys],
  );
  const byKey = new Map(found.map((f) => [`${f.tenant_id}\u0000${f.idempotency_key}`, f]));
  for (const row of keyed) {
    const hit = byKey.get(`${row.event.tenantId}\u0000${row.event.idempotencyKey}`);
    if (hit && !row.duplicateOf) {
      row.existing = { id: hit.id, eventType: hit.event_type, createdAt: hit.created_at.toISOString(), deliveryCount: hit.delivery_count };
    }
  }
}
