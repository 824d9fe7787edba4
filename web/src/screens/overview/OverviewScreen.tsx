import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useConsole } from '../../app/context';
import { StatsChart, Sparkline } from '../../components/charts';
import { Empty, ErrorBanner, Notice, Pager, ago, message, ms, percent, useLoad, usePager } from '../../components/ui';

type Endpoint = Schemas['EndpointView'];
type Stats = Schemas['EndpointStatsWithSeriesView'];
interface Row {
  endpoint: Endpoint;
  stats: Stats | null;
}

const failing = (r: Row) => Boolean(r.stats?.circuit.failingSince) || r.stats?.circuit.state !== 'closed';

/** Every endpoint at a glance, failing ones first, with one click to resend what failed since it began failing. */
export function OverviewScreen() {
  const { tenantId } = useParams() as { tenantId: string };
  const { can, me } = useConsole();
  const pager = usePager(tenantId);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const tenant = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/stats', { params: { path: { tenantId }, query: { window: '24h', step: '1h' } } })), [tenantId]);
  const { data, error, reload } = useLoad(async () => {
    const page = await unwrap(api.GET('/v1/tenants/{tenantId}/endpoints', { params: { path: { tenantId }, query: { limit: 25, cursor: pager.cursor } } }));
    const rows: Row[] = await Promise.all(
      page.data.map(async (endpoint) => ({
        endpoint,
        stats: await unwrap(api.GET('/v1/tenants/{tenantId}/endpoints/{endpointId}/stats', { params: { path: { tenantId, endpointId: endpoint.id }, query: { window: '24h', step: '1h' } } })).catch(() => null),
      })),
    );
    rows.sort((a, b) => Number(failing(b)) - Number(failing(a)));
    return { rows, nextCursor: page.nextCursor };
  }, [tenantId, pager.cursor]);

  const recover = async (row: Row) => {
    const since = row.stats?.circuit.failingSince;
    if (!since) return;
    setActionError(null);
    try {
      const { count } = await unwrap(api.POST('/v1/tenants/{tenantId}/endpoints/{endpointId}/recover', { params: { path: { tenantId, endpointId: row.endpoint.id } }, body: { since } }));
      setNotice(`${count} failed or dead deliveries to ${row.endpoint.url} queued again`);
      reload();
    } catch (e) {
      setActionError(message(e));
    }
  };

  return (
    <section>
      <div className="title-row">
        <h1>Overview</h1>
        {can('manage-endpoints') && !me.endpointIds && (
          <Link className="button primary" to={`/t/${tenantId}/endpoints/new`} data-testid="add-endpoint">
            Add endpoint
          </Link>
        )}
      </div>
      <Notice text={notice} />
      <ErrorBanner error={error ?? actionError ?? tenant.error} />
      {tenant.data && (
        <div className="card">
          <h2>Last 24 hours</h2>
          <p className="figures">
            <span>{tenant.data.series.total.attempts} attempts</span>
            <span>success {percent(tenant.data.series.total.successRate)}</span>
            <span>p50 {ms(tenant.data.series.total.p50LatencyMs)}</span>
            <span>p99 {ms(tenant.data.series.total.p99LatencyMs)}</span>
          </p>
          <StatsChart points={tenant.data.series.points} step={tenant.data.series.step} />
        </div>
      )}
      {data && data.rows.length === 0 && pager.page === 1 && (
        <Empty>
          No endpoints yet: {can('manage-endpoints') && !me.endpointIds ? <Link to={`/t/${tenantId}/endpoints/new`}>add one</Link> : 'ask the producer to add one'} to start receiving webhooks.
        </Empty>
      )}
      {data && data.rows.length > 0 && (
        <table data-testid="endpoints">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>24 h</th>
              <th>Success</th>
              <th>p50 / p99</th>
              <th>Circuit</th>
              <th>Backlog</th>
              <th>Dead</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.rows.map((row) => {
              const s = row.stats;
              return (
                <tr key={row.endpoint.id} className={failing(row) ? 'failing' : ''} data-testid="endpoint-row">
                  <td>
                    <Link to={`/t/${tenantId}/endpoints/${row.endpoint.id}`}>{row.endpoint.url}</Link>
                    {row.endpoint.description && <div className="sub">{row.endpoint.description}</div>}
                    {row.endpoint.disabled && <div className="sub warn">disabled ({row.endpoint.disabledReason})</div>}
                  </td>
                  <td>{s?.series && <Sparkline points={s.series.points} />}</td>
                  <td>{percent(s?.lastDay.successRate)}</td>
                  <td>
                    {ms(s?.lastDay.p50LatencyMs)} / {ms(s?.lastDay.p99LatencyMs)}
                  </td>
                  <td>
                    <span className={`badge badge-circuit-${s?.circuit.state}`}>{s?.circuit.state ?? '—'}</span>
                    {s?.circuit.failingSince && <div className="sub warn">failing since {ago(s.circuit.failingSince)}</div>}
                  </td>
                  <td>
                    {s ? `${s.deliveries.pending} pending` : '—'}
                    {s?.rateLimit.backlogMs ? <div className="sub">{Math.round(s.rateLimit.backlogMs / 1000)} s rate-limit wait</div> : null}
                  </td>
                  <td>
                    {s && s.deliveries.dead > 0 ? <Link to={`/t/${tenantId}/deliveries?status=dead&endpointId=${row.endpoint.id}`}>{s.deliveries.dead}</Link> : (s?.deliveries.dead ?? '—')}
                  </td>
                  <td>
                    {s?.circuit.failingSince && can('resend') && (
                      <button onClick={() => void recover(row)} data-testid="recover">
                        Resend failures since then
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextCursor={data?.nextCursor} />
    </section>
  );
}
