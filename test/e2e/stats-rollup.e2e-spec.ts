import { createEndpoint, createTenant } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';

/**
 * The stats API over hours of history: closed 10-minute granules are read from the rollup
 * (endpoint_stat_granules), the rest from the rows. The answers must be those the rows give: counts exact,
 * p50/p99 within 1 % of percentile_cont over the rows.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function idAt(kind: string, ms: number, n: number): string {
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  return `${kind}_${time}${n.toString(16).toUpperCase().padStart(16, '0')}`;
}

describe('stats API over a rollup', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let tenant: { id: string };
  let endpointId: string;

  beforeAll(async () => {
    herald = await startHerald();
    receiver = await TestReceiver.start();
    tenant = await createTenant(herald.api);
    endpointId = (await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/stats`, eventTypes: ['history.*'] })).id;
    // 6 hours of history: a delivery every 15 s, its attempts 1 s apart (the last one succeeds unless it is dead
    // or still pending), durations spread 3 ms … 2.9 s; up to the last minute, so the young part is read from rows.
    const now = Date.now();
    const deliveries = (6 * 3600) / 15;
    const ev: unknown[][] = [[], [], []];
    const dl: unknown[][] = [[], [], [], [], []];
    const at: unknown[][] = [[], [], [], [], [], [], []];
    for (let d = 0; d < deliveries; d++) {
      const created = now - 6 * 3600_000 + d * 15_000 - 60_000;
      const status = d % 23 === 0 ? 'dead' : d % 31 === 0 ? 'pending' : 'succeeded';
      ev[0].push(idAt('evt', created, d));
      ev[1].push(new Date(created));
      ev[2].push('history.tick');
      dl[0].push(idAt('dlv', created, d));
      dl[1].push(idAt('evt', created, d));
      dl[2].push(status);
      dl[3].push(new Date(created));
      dl[4].push(status === 'pending' ? null : new Date(created));
      const tries = 1 + (d % 3);
      for (let k = 0; k < tries; k++) {
        const ok = k === tries - 1 && status === 'succeeded';
        at[0].push(idAt('att', created + k * 1000, d * 4 + k));
        at[1].push(idAt('dlv', created, d));
        at[2].push(k + 1);
        at[3].push(new Date(created + k * 1000));
        at[4].push(d % 97 === 0 ? 2900 : 3 + ((d * 37 + k * 11) % 400));
        at[5].push(ok ? 200 : 500);
        at[6].push(ok || k % 2 ? null : 'http_error');
      }
    }
    await herald.sql(
      `INSERT INTO events (id, tenant_id, event_type, payload, created_at) SELECT id, $1, t, '{}', c FROM unnest($2::varchar[], $3::timestamptz[], $4::varchar[]) AS u(id, c, t)`,
      [tenant.id, ...ev.slice(0, 2), ev[2]],
    );
    await herald.sql(
      `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, created_at, updated_at, next_attempt_at)
       SELECT id, $1, e, $2, 'history.tick', s, c, c, CASE WHEN s = 'pending' THEN now() + interval '1 hour' END
       FROM unnest($3::varchar[], $4::varchar[], $5::varchar[], $6::timestamptz[]) AS u(id, e, s, c)`,
      [tenant.id, endpointId, dl[0], dl[1], dl[2], dl[3]],
    );
    await herald.sql(
      `INSERT INTO attempts (id, delivery_id, endpoint_id, attempt_number, trigger, started_at, duration_ms, status_code, error)
       SELECT id, d, $1, n, CASE WHEN n = 1 THEN 'initial' ELSE 'retry' END, s, ms, code, err
       FROM unnest($2::varchar[], $3::varchar[], $4::int[], $5::timestamptz[], $6::int[], $7::int[], $8::text[]) AS u(id, d, n, s, ms, code, err)`,
      [endpointId, ...at],
    );
  });
  afterAll(async () => {
    await receiver.close();
    await herald.close();
  });

  /** What the rows say for [from, to) by step: the reference the rollup must agree with. */
  async function fromRows(from: string, to: string, stepMs: number) {
    const attempts = await herald.sql(
      `SELECT i, count(*)::int AS attempts, count(*) FILTER (WHERE ok)::int AS succeeded,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
       FROM (SELECT floor(extract(epoch FROM started_at - $2::timestamptz) * 1000 / $4)::int AS i, duration_ms,
                    (error IS NULL AND status_code BETWEEN 200 AND 299) AS ok
             FROM attempts WHERE endpoint_id = $1 AND started_at >= $2 AND started_at < $3) a
       GROUP BY ROLLUP (i)`,
      [endpointId, from, to, stepMs],
    );
    const deliveries = await herald.sql(
      `SELECT floor(extract(epoch FROM created_at - $2::timestamptz) * 1000 / $4)::int AS i,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE status = 'dead')::int AS dead,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
       FROM deliveries WHERE endpoint_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1`,
      [endpointId, from, to, stepMs],
    );
    return { attempts, deliveries };
  }

  const near = (got: number | null, want: number | null) => {
    if (want === null) return expect(got).toBeNull();
    expect(Math.abs(got! - Number(want)) / Number(want)).toBeLessThanOrEqual(0.011);
  };

  async function expectAgrees(series: any) {
    const stepMs = Date.parse(series.points[1].start) - Date.parse(series.points[0].start);
    const rows = await fromRows(series.from, series.to, stepMs);
    const total = rows.attempts.find((r) => r.i === null);
    expect(series.total).toMatchObject({ attempts: total.attempts, succeeded: total.succeeded, failed: total.attempts - total.succeeded });
    near(series.total.p50LatencyMs, total.p50);
    near(series.total.p99LatencyMs, total.p99);
    series.points.forEach((p: any, i: number) => {
      const a = rows.attempts.find((r) => r.i === i);
      const d = rows.deliveries.find((r) => r.i === i) ?? { succeeded: 0, dead: 0, pending: 0 };
      expect([i, p.attempts, p.succeeded]).toEqual([i, a?.attempts ?? 0, a?.succeeded ?? 0]);
      expect([i, p.deliveries]).toEqual([i, { succeeded: d.succeeded, dead: d.dead, pending: d.pending }]);
      near(p.p50LatencyMs, a?.p50 ?? null);
      near(p.p99LatencyMs, a?.p99 ?? null);
    });
  }

  it('answers from the rollup what the rows say, and rolls each granule up once', async () => {
    const path = `/v1/tenants/${tenant.id}/endpoints/${endpointId}/stats?window=6h&step=1h`;
    const first = await herald.api.get(path);
    expect(first.status).toBe(200);
    expect(first.body.series.total.attempts).toBeGreaterThan(2000);
    await expectAgrees(first.body.series);
    const granules = await herald.sql('SELECT count(*)::int AS n, sum(attempts)::int AS attempts FROM endpoint_stat_granules WHERE endpoint_id = $1', [endpointId]);
    expect(granules[0].n).toBeGreaterThan(30); // most of 6 h in 10-minute granules
    const [mark] = await herald.sql('SELECT rolled_from, rolled_to FROM endpoint_stat_marks WHERE endpoint_id = $1', [endpointId]);
    expect(Date.now() - mark.rolled_to.getTime()).toBeGreaterThanOrEqual(5 * 60_000);

    // again: the same answer, from the same granules (none written twice)
    const second = await herald.api.get(path);
    expect(second.body.series.total).toEqual(first.body.series.total);
    expect((await herald.sql('SELECT count(*)::int AS n FROM endpoint_stat_granules WHERE endpoint_id = $1', [endpointId]))[0].n).toBe(granules[0].n);

    // a longer window rolls up the hours before the ones already rolled up, and still agrees
    const longer = await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${endpointId}/stats?window=12h&step=2h`);
    await expectAgrees(longer.body.series);
  });

  it('agrees with the rows for steps the rollup cannot serve, for the summary, and per tenant', async () => {
    const fine = await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${endpointId}/stats?window=2h&step=5m`);
    await expectAgrees(fine.body.series);

    const asked = Date.now();
    const summary = (await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${endpointId}/stats`)).body;
    const answered = Date.now();
    const [counts] = await herald.sql(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE status = 'dead')::int AS dead,
              count(*) FILTER (WHERE status = 'pending')::int AS pending FROM deliveries WHERE endpoint_id = $1`,
      [endpointId],
    );
    expect(summary.deliveries).toMatchObject(counts);
    expect(summary.deliveries.scheduled).toBe(counts.pending);
    // the window starts on the whole minute an hour (a day) before the request's own now, somewhere between asked and answered
    const total = async (since: number) => (await fromRows(new Date(since).toISOString(), new Date(answered + 60_000).toISOString(), 100 * 24 * 3600_000)).attempts.find((r) => r.i === null);
    for (const [view, ms] of [[summary.lastHour, 3600_000], [summary.lastDay, 24 * 3600_000]] as const) {
      const minute = (t: number) => Math.floor(t / 60_000) * 60_000;
      const [wide, narrow] = [await total(minute(asked) - ms), await total(minute(answered) - ms)];
      expect(view.attempts).toBeLessThanOrEqual(wide.attempts);
      expect(view.attempts).toBeGreaterThanOrEqual(narrow.attempts);
      const p99 = view.attempts === wide.attempts ? wide.p99 : narrow.p99;
      if (view.attempts === wide.attempts || view.attempts === narrow.attempts) near(view.p99LatencyMs, p99);
    }

    const tenantSeries = (await herald.api.get(`/v1/tenants/${tenant.id}/stats?window=6h&step=1h`)).body.series;
    await expectAgrees(tenantSeries);
  });
});
