import { DataSource } from 'typeorm';
import { newId } from '../../src/common/ids';
import { AttemptRecorder } from '../../src/deliveries/attempt-recorder';
import { DeliveryStore } from '../../src/deliveries/delivery-store';
import { firstIdAt } from '../../src/deliveries/stats-window';
import { succeededAttempt } from '../support/attempts';
import { openTestDataSource } from '../support/database';
import { intercepting } from '../support/statements';

jest.setTimeout(30_000);

/** What `record` answers: recorded (no resend waiting), or not recorded (stale). */
const YES = { recorded: true, resendFollows: false, released: [] };
const NO = { recorded: false };

/** An id of `kind` made at `at` (rows of a day that has no partition land in DEFAULT). */
const idAt = (kind: 'evt' | 'dlv', at: Date) => firstIdAt(kind, at).slice(0, -16) + newId(kind).slice(-16);

describe('AttemptRecorder and DeliveryStore against PostgreSQL', () => {
  let close: () => Promise<void>;
  let db: DataSource;
  let tenantId: string;
  let eventId: string;

  beforeAll(async () => {
    ({ db, close } = await openTestDataSource());
    tenantId = newId('tnt');
    eventId = newId('evt');
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'recorder')`, [tenantId]);
    await db.query(`INSERT INTO events (id, tenant_id, event_type, payload) VALUES ($1, $2, 'order.created', '{"n":1}')`, [eventId, tenantId]);
  });

  afterAll(async () => {
    await close?.();
  });

  async function endpoint(health: { failures?: number; circuit?: boolean } = {}): Promise<string> {
    const id = newId('ep');
    await db.query(
      `INSERT INTO endpoints (id, tenant_id, url, secret_sealed, retry_policy, consecutive_failures, failing_since, circuit_phase, circuit_until, circuit_cooldown_ms)
       VALUES ($1, $2, 'https://example.com/hook', 'sealed', '{}', $3, $4, $5, $6, $7)`,
      [
        id,
        tenantId,
        health.failures ?? 0,
        health.failures ? new Date() : null,
        health.circuit ? 'probing' : null,
        health.circuit ? new Date(Date.now() + 60_000) : null,
        health.circuit ? 30_000 : null,
      ],
    );
    return id;
  }

  async function delivery(endpointId: string, attemptCount = 0, made: { id?: string; event?: string } = {}): Promise<string> {
    const id = made.id ?? newId('dlv');
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger)
       VALUES ($1, $2, $3, $4, 'order.created', 'pending', $5, now(), 'initial')`,
      [id, tenantId, made.event ?? eventId, endpointId, attemptCount],
    );
    return id;
  }

  /** Counts the statements the recorder sends. */
  function counting(): { recorder: AttemptRecorder; statements: () => number } {
    let statements = 0;
    const spy = intercepting(db, () => {
      statements++;
    });
    return { recorder: new AttemptRecorder(spy), statements: () => statements };
  }

  it('records concurrent attempts in a few grouped statements, each only after its group is committed', async () => {
    const ep = await endpoint();
    const ids = await Promise.all(Array.from({ length: 50 }, () => delivery(ep)));
    const [before] = await db.query(`SELECT xmin::text AS xmin FROM endpoints WHERE id = $1`, [ep]);
    const { recorder, statements } = counting();
    const records = ids.map((id) => succeededAttempt(id, ep));
    const results = await Promise.all(records.map((r) => recorder.record(r)));

    expect(results).toEqual(ids.map(() => YES));
    // The first flushes at once; the others wait for it and share the next statement.
    expect(statements()).toBeGreaterThanOrEqual(1);
    expect(statements()).toBeLessThanOrEqual(2);
    const rows = await db.query(`SELECT status, attempt_count, next_trigger, last_status_code, last_error, next_attempt_at FROM deliveries WHERE id = ANY($1)`, [ids]);
    expect(rows).toHaveLength(50);
    for (const row of rows) expect(row).toEqual({ status: 'succeeded', attempt_count: 1, next_trigger: 'retry', last_status_code: 200, last_error: null, next_attempt_at: null });
    const attempts = await db.query(`SELECT id, delivery_id, attempt_number, trigger, duration_ms, status_code, response_body, response_headers FROM attempts WHERE delivery_id = ANY($1)`, [ids]);
    expect(attempts).toHaveLength(50);
    expect(attempts[0]).toMatchObject({ attempt_number: 1, trigger: 'initial', duration_ms: 12, status_code: 200, response_body: 'ok', response_headers: { 'content-type': 'text/plain' } });
    // Successes with nothing to reset leave the endpoint row alone.
    const [after] = await db.query(`SELECT xmin::text AS xmin FROM endpoints WHERE id = $1`, [ep]);
    expect(after.xmin).toBe(before.xmin);
  });

  it('does not record a stale or duplicate attempt, and records a duplicate within one group once', async () => {
    const ep = await endpoint();
    const moved = await delivery(ep, 2);
    const fresh = await delivery(ep);
    const recorder = new AttemptRecorder(db);
    // Held back behind a first statement, the rest form one group.
    const first = recorder.record(succeededAttempt(await delivery(ep), ep));
    const stale = recorder.record(succeededAttempt(moved, ep, 2));
    const a = recorder.record(succeededAttempt(fresh, ep));
    const b = recorder.record(succeededAttempt(fresh, ep));
    expect(await first).toEqual(YES);
    expect(await stale).toEqual(NO);
    expect([await a, await b].map((r) => r.recorded).sort()).toEqual([false, true]);
    expect(await db.query(`SELECT attempt_number FROM attempts WHERE delivery_id = $1`, [fresh])).toEqual([{ attempt_number: 1 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM attempts WHERE delivery_id = $1`, [moved])).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT status, attempt_count FROM deliveries WHERE id = $1`, [moved])).toEqual([{ status: 'pending', attempt_count: 2 }]);
    // Later, the same attempt again (a re-run job): not recorded.
    expect(await recorder.record(succeededAttempt(fresh, ep))).toEqual(NO);
  });

  it("resets an endpoint's health in the same statement, only when asked and only if the attempt is recorded", async () => {
    const open = await endpoint({ failures: 7, circuit: true });
    const untouched = await endpoint({ failures: 2 });
    const staleReset = await endpoint({ failures: 4 });
    const recorder = new AttemptRecorder(db);
    const results = await Promise.all([
      recorder.record(succeededAttempt(await delivery(open), open, 1, { resetEndpointHealth: true })),
      recorder.record(succeededAttempt(await delivery(untouched), untouched)),
      recorder.record(succeededAttempt(await delivery(staleReset, 3), staleReset, 1, { resetEndpointHealth: true })),
    ]);
    expect(results).toEqual([YES, YES, NO]);
    const health = async (id: string) =>
      (await db.query(`SELECT consecutive_failures, failing_since IS NOT NULL AS failing, circuit_phase, circuit_until, circuit_cooldown_ms FROM endpoints WHERE id = $1`, [id]))[0];
    expect(await health(open)).toEqual({ consecutive_failures: 0, failing: false, circuit_phase: null, circuit_until: null, circuit_cooldown_ms: null });
    expect(await health(untouched)).toMatchObject({ consecutive_failures: 2, failing: true });
    expect(await health(staleReset)).toMatchObject({ consecutive_failures: 4, failing: true });
  });

  it("records failures' new state (pending with a next attempt, or dead) as given", async () => {
    const ep = await endpoint();
    const retry = await delivery(ep);
    const dead = await delivery(ep, 4);
    const next = new Date(Date.now() + 60_000);
    const recorder = new AttemptRecorder(db);
    const failed = { statusCode: 500, responseBody: 'boom', error: null, lastError: 'HTTP 500' };
    expect(
      await Promise.all([
        recorder.record(succeededAttempt(retry, ep, 1, { ...failed, status: 'pending', nextAttemptAt: next })),
        recorder.record(succeededAttempt(dead, ep, 5, { ...failed, status: 'dead' })),
      ]),
    ).toEqual([YES, YES]);
    const rows = await db.query(`SELECT id, status, attempt_count, next_attempt_at, last_error, last_status_code FROM deliveries WHERE id = ANY($1) ORDER BY attempt_count`, [[retry, dead]]);
    expect(rows).toEqual([
      { id: retry, status: 'pending', attempt_count: 1, next_attempt_at: next, last_error: 'HTTP 500', last_status_code: 500 },
      { id: dead, status: 'dead', attempt_count: 5, next_attempt_at: null, last_error: 'HTTP 500', last_status_code: 500 },
    ]);
  });

  it('stores every field of a group exactly as given: quotes, backslashes, non-ASCII text, headers, times', async () => {
    const ep = await endpoint();
    const recorder = new AttemptRecorder(db);
    const startedAt = new Date('2026-11-27T10:11:12.345Z');
    const nextAttemptAt = new Date('2026-11-27T10:12:00.001Z');
    const odd = 'q"uo\'te \\ back{s}lash, comma; é 漢 🎉 \t tab\nnewline {"json":[1]}';
    const plain = await delivery(ep);
    const failed = await delivery(ep);
    const halfPair = 'error cut mid-emoji: \ud83c';
    const results = await Promise.all([
      recorder.record(succeededAttempt(plain, ep, 1, { startedAt, responseBody: odd, responseHeaders: { 'x-odd': odd, 'content-type': 'text/plain' } })),
      recorder.record(
        succeededAttempt(failed, ep, 1, {
          startedAt,
          durationMs: 1234.6,
          statusCode: null,
          responseBody: 'AAEC/w==',
          responseBodyEncoding: 'base64',
          responseHeaders: null,
          responseHeadersBase64: ['x-bin', 'a"b\\c,{d}'],
          error: halfPair,
          status: 'pending',
          nextAttemptAt,
          lastError: odd,
        }),
      ),
    ]);
    expect(results).toEqual([YES, YES]);
    const rows = await db.query(
      `SELECT a.delivery_id, a.started_at, a.duration_ms, a.status_code, a.response_body, a.response_body_encoding, a.response_headers, a.response_headers_base64,
              a.error, d.status, d.next_attempt_at, d.last_error, d.last_status_code
       FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.delivery_id = ANY($1) ORDER BY a.delivery_id = $2 DESC`,
      [[plain, failed], plain],
    );
    expect(rows).toEqual([
      {
        delivery_id: plain,
        started_at: startedAt,
        duration_ms: 12,
        status_code: 200,
        response_body: odd,
        response_body_encoding: 'utf8',
        response_headers: { 'x-odd': odd, 'content-type': 'text/plain' },
        response_headers_base64: null,
        error: null,
        status: 'succeeded',
        next_attempt_at: null,
        last_error: null,
        last_status_code: 200,
      },
      {
        delivery_id: failed,
        started_at: startedAt,
        duration_ms: 1235,
        status_code: null,
        response_body: 'AAEC/w==',
        response_body_encoding: 'base64',
        response_headers: null,
        response_headers_base64: ['x-bin', 'a"b\\c,{d}'],
        // half a surrogate pair is stored as U+FFFD, not refused
        error: 'error cut mid-emoji: \ufffd',
        status: 'pending',
        next_attempt_at: nextAttemptAt,
        last_error: odd,
        last_status_code: null,
      },
    ]);
  });

  it('records an answer PostgreSQL will not store without its response, saying so, and fails no other member', async () => {
    const ep = await endpoint();
    const recorder = new AttemptRecorder(db);
    const first = recorder.record(succeededAttempt(await delivery(ep), ep));
    const good = await delivery(ep);
    const bad = await delivery(ep);
    // PostgreSQL refuses \u0000 in text: this row makes its group's statement fail, then its own.
    const results = await Promise.all([recorder.record(succeededAttempt(good, ep)), recorder.record(succeededAttempt(bad, ep, 1, { responseBody: 'a\u0000b', responseHeaders: { 'x-odd': 'a\u0000' } }))]);
    expect(await first).toEqual(YES);
    expect(results).toEqual([YES, YES]);
    expect(await db.query(`SELECT status FROM deliveries WHERE id = $1`, [bad])).toEqual([{ status: 'succeeded' }]);
    const [stored] = await db.query(`SELECT status_code, response_body, response_headers, error FROM attempts WHERE delivery_id = $1`, [bad]);
    expect(stored).toMatchObject({ status_code: 200, response_body: null, response_headers: null });
    expect(stored.error).toMatch(/^response not stored: /);

    const down = intercepting(db, () => Promise.reject(new Error('connection terminated')));
    const failing = new AttemptRecorder(down);
    const all = await Promise.allSettled([1, 2, 3, 4].map(() => failing.record(succeededAttempt(good, ep))));
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect((all[3] as PromiseRejectedResult).reason.message).toBe('connection terminated');
  });

  it('claims deliveries asked for together in one statement; a claimed, stale, early or duplicate one is not claimed again', async () => {
    const ep = await endpoint();
    const ids = await Promise.all(Array.from({ length: 20 }, () => delivery(ep)));
    const later = await delivery(ep);
    await db.query(`UPDATE deliveries SET next_attempt_at = now() + interval '1 minute' WHERE id = $1`, [later]);
    let statements = 0;
    const spy = intercepting(db, () => {
      statements++;
    });
    const store = new DeliveryStore(spy);
    // Deliveries of one day, in no line, all claimable: one statement.
    const claims = await Promise.all(ids.slice(0, 10).map((id) => store.claim(id, 1, 30_000)));
    expect(statements).toBe(1);
    // With a duplicate, a malformed and an early one among them: those are not claimed, the others are.
    claims.push(...(await Promise.all([...ids.slice(10), ids[0], 'dlv_missing', later].map((id) => store.claim(id, 1, 30_000)))));
    expect(claims.slice(0, 20).map((c) => c!.id)).toEqual(ids);
    expect(claims[0]).toEqual({ id: ids[0], eventId, endpointId: ep, eventType: 'order.created', attemptCount: 0, trigger: 'initial', payload: '{"n":1}', sourceHeaders: null, traceContext: null, lineKey: null });
    expect(claims.slice(20)).toEqual([undefined, undefined, undefined]);
    // Claimed: no second run gets it until the claim is let go (recorded, deferred, or lapsed).
    expect(await store.claim(ids[1], 1, 30_000)).toBeUndefined();
    expect(await store.claim(ids[1], 2, 30_000)).toBeUndefined();
    expect(await store.defer(ids[1], 0, 0)).toBe(true);
    expect(await store.claim(ids[1], 1, 30_000)).toMatchObject({ id: ids[1] });
    const [row] = await db.query(`SELECT claimed_until > now() AS claimed FROM deliveries WHERE id = $1`, [ids[1]]);
    expect(row.claimed).toBe(true);
    // Recording lets the claim go.
    await new AttemptRecorder(db).record(succeededAttempt(ids[1], ep));
    expect(await db.query(`SELECT claimed_until FROM deliveries WHERE id = $1`, [ids[1]])).toEqual([{ claimed_until: null }]);
  });

  it("claims and records deliveries whose day has no partition, and loads an event of another day than its delivery's", async () => {
    const ep = await endpoint();
    // A replay's delivery: made today, for an event of five days ago (no partition: the row is in events_default).
    const oldEvent = idAt('evt', new Date(Date.now() - 5 * 86_400_000));
    await db.query(`INSERT INTO events (id, tenant_id, event_type, payload) VALUES ($1, $2, 'order.created', '{"n":5}')`, [oldEvent, tenantId]);
    const replayed = await delivery(ep, 0, { event: oldEvent });
    // A delivery of forty days ago, still pending (deliveries_default; naming its day's partition fails).
    const ancient = await delivery(ep, 0, { id: idAt('dlv', new Date(Date.now() - 40 * 86_400_000)) });
    const today = await delivery(ep);
    const store = new DeliveryStore(db);
    const claims = await Promise.all([replayed, today].map((id) => store.claim(id, 1, 30_000)));
    expect(claims.map((c) => [c?.id, c?.payload])).toEqual([[replayed, '{"n":5}'], [today, '{"n":1}']]);
    expect(await store.claim(ancient, 1, 30_000)).toMatchObject({ id: ancient, payload: '{"n":1}' });
    // Twice: the second run does not name the missing partition again, and answers the same.
    const recorder = new AttemptRecorder(db);
    expect(await recorder.record(succeededAttempt(ancient, ep))).toEqual(YES);
    expect(await recorder.record(succeededAttempt(replayed, ep))).toEqual(YES);
    const rows = await db.query(`SELECT id, status, claimed_until FROM deliveries WHERE id = ANY($1) ORDER BY id`, [[ancient, replayed]]);
    expect(rows).toEqual([
      { id: ancient, status: 'succeeded', claimed_until: null },
      { id: replayed, status: 'succeeded', claimed_until: null },
    ]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM deliveries_default WHERE id = $1`, [ancient]);
    expect(n).toBe(1);
  });

  it('claims deliveries made on two days asked for together', async () => {
    const ep = await endpoint();
    const yesterday = await delivery(ep, 0, { id: idAt('dlv', new Date(Date.now() - 86_400_000)) });
    const today = await delivery(ep);
    const store = new DeliveryStore(db);
    const claims = await Promise.all([yesterday, today].map((id) => store.claim(id, 1, 30_000)));
    expect(claims.map((c) => c?.id)).toEqual([yesterday, today]);
  });

  it('parks only where the endpoint is still disabled, judged by its row', async () => {
    const ep = await endpoint();
    const id = await delivery(ep);
    const store = new DeliveryStore(db);
    expect(await store.park(id, 0)).toBe('enabled');
    await db.query(`UPDATE endpoints SET disabled = true WHERE id = $1`, [ep]);
    expect(await store.park(id, 0)).toBe('parked');
    expect(await db.query(`SELECT next_attempt_at FROM deliveries WHERE id = $1`, [id])).toEqual([{ next_attempt_at: null }]);
    expect(await store.park(id, 5)).toBe('moved');
  });

  it('makes the attempt after one in flight a manual one when a resend was asked for meanwhile', async () => {
    const ep = await endpoint();
    const id = await delivery(ep);
    await db.query(`UPDATE deliveries SET resend_requested = true WHERE id = $1`, [id]);
    expect(await new AttemptRecorder(db).record(succeededAttempt(id, ep))).toEqual({ recorded: true, resendFollows: true, released: [] });
    const [row] = await db.query(`SELECT status, attempt_count, next_trigger, resend_requested, next_attempt_at <= now() AS due FROM deliveries WHERE id = $1`, [id]);
    expect(row).toEqual({ status: 'pending', attempt_count: 1, next_trigger: 'manual', resend_requested: false, due: true });
  });
  /** A delivery in the line (endpoint, key) at place `seq`. */
  async function lined(endpointId: string, key: string, seq: number): Promise<string> {
    const id = await delivery(endpointId);
    await db.query(`UPDATE deliveries SET ordering_key = $2, ordering_seq = $3 WHERE id = $1`, [id, key, seq]);
    await db.query(
      `INSERT INTO ordering_lines (endpoint_id, ordering_key, last_seq) VALUES ($1, $2, $3)
       ON CONFLICT (endpoint_id, ordering_key) DO UPDATE SET last_seq = greatest(ordering_lines.last_seq, excluded.last_seq)`,
      [endpointId, key, seq],
    );
    return id;
  }

  it('claims only the head of a line; finishing it (not retrying it) releases the next in the same transaction', async () => {
    const ep = await endpoint();
    const head = await lined(ep, 'k', 1);
    const next = await lined(ep, 'k', 2);
    const other = await lined(ep, 'other', 1);
    const store = new DeliveryStore(db);
    const recorder = new AttemptRecorder(db);
    expect(await store.claim(next, 1, 30_000)).toBeUndefined();
    expect(await store.claim(other, 1, 30_000)).toMatchObject({ id: other, lineKey: 'other' });
    expect(await store.claim(head, 1, 30_000)).toMatchObject({ id: head, lineKey: 'k' });

    // A failure with a retry keeps the head: nothing is released, the next one still cannot be claimed.
    const retry = await recorder.record(succeededAttempt(head, ep, 1, { status: 'pending', statusCode: 503, nextAttemptAt: new Date(), lastError: 'HTTP 503', lineKey: 'k' }));
    expect(retry).toEqual(YES);
    expect(await store.claim(next, 1, 30_000)).toBeUndefined();

    expect(await store.claim(head, 2, 30_000)).toMatchObject({ id: head });
    const done = await recorder.record(succeededAttempt(head, ep, 2, { lineKey: 'k' }));
    expect(done).toEqual({ recorded: true, resendFollows: false, released: [{ deliveryId: next, endpointId: ep, orderingKey: 'k', attemptCount: 0, nextAttemptAt: expect.any(Date) }] });
    expect(await store.claim(next, 1, 30_000)).toMatchObject({ id: next, lineKey: 'k' });
  });

  it('a dead head releases its line too, and so does one finished without an attempt', async () => {
    const ep = await endpoint();
    const [a, b, c] = [await lined(ep, 'k', 1), await lined(ep, 'k', 2), await lined(ep, 'k', 3)];
    const store = new DeliveryStore(db);
    await store.claim(a, 1, 30_000);
    const dead = await new AttemptRecorder(db).record(succeededAttempt(a, ep, 1, { status: 'dead', statusCode: 500, lastError: 'HTTP 500', lineKey: 'k' }));
    expect(dead).toMatchObject({ recorded: true, released: [{ deliveryId: b }] });
    const claimed = await store.claim(b, 1, 30_000);
    expect(await store.finishWithoutAttempt(claimed!, 'endpoint deleted')).toMatchObject({ finished: true, released: [{ deliveryId: c }] });
  });
});
