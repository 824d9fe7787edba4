import { useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useConsole } from '../../app/context';
import { Empty, ErrorBanner, Notice, Pager, Status, message, time, useLoad, usePager } from '../../components/ui';

const FILTERS = ['status', 'eventType', 'endpointId', 'eventId', 'since', 'until'] as const;
const TAIL_EVERY_MS = 2000;

/** Every delivery, filtered server-side; `dead` is the dead-letter queue. Tail mode polls for new ones. */
export function DeliveriesScreen() {
  const { tenantId } = useParams() as { tenantId: string };
  const { can } = useConsole();
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const key = JSON.stringify(filters);
  const pager = usePager(key);
  const [tail, setTail] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const toIso = (v: string) => (v ? new Date(v).toISOString() : undefined);

  const { data, error, reload } = useLoad(
    () =>
      unwrap(
        api.GET('/v1/tenants/{tenantId}/deliveries', {
          params: {
            path: { tenantId },
            query: {
              limit: 50,
              cursor: pager.cursor,
              status: (filters.status || undefined) as 'pending' | 'succeeded' | 'dead' | undefined,
              eventType: filters.eventType || undefined,
              endpointId: filters.endpointId || undefined,
              eventId: filters.eventId || undefined,
              since: toIso(filters.since),
              until: toIso(filters.until),
            },
          },
        }),
      ),
    [tenantId, key, pager.cursor],
  );

  // Tail: the newest page, refreshed while the mode is on.
  useEffect(() => {
    if (!tail) return;
    pager.first();
    const timer = setInterval(reload, TAIL_EVERY_MS);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tail, reload]);

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const bulkResend = async () => {
    const status = filters.status as 'pending' | 'succeeded' | 'dead';
    if (!window.confirm(`Resend every ${status} delivery matching these filters now? (up to 1000 per click)`)) return;
    setActionError(null);
    try {
      const res = await unwrap(
        api.POST('/v1/tenants/{tenantId}/deliveries/resend', {
          params: { path: { tenantId } },
          body: { status, eventType: filters.eventType || undefined, endpointId: filters.endpointId || undefined, since: toIso(filters.since), until: toIso(filters.until) },
        }),
      );
      setNotice(`${res.count} deliveries queued for a fresh attempt${res.more ? '; more matched: click again for the next ones' : ''}`);
      reload();
    } catch (e) {
      setActionError(message(e));
    }
  };

  return (
    <section>
      <div className="title-row">
        <h1>Deliveries</h1>
        <label className="toggle">
          <input type="checkbox" checked={tail} onChange={(e) => setTail(e.target.checked)} data-testid="tail" /> Live tail
        </label>
      </div>
      <div className="filters">
        <select value={filters.status} onChange={(e) => set('status', e.target.value)} data-testid="filter-status">
          <option value="">any status</option>
          <option value="pending">pending</option>
          <option value="succeeded">succeeded</option>
          <option value="dead">dead (dead-letter queue)</option>
        </select>
        <input placeholder="event type" value={filters.eventType} onChange={(e) => set('eventType', e.target.value)} />
        <input placeholder="endpoint id (ep_…)" value={filters.endpointId} onChange={(e) => set('endpointId', e.target.value)} />
        <input placeholder="event id (evt_…)" value={filters.eventId} onChange={(e) => set('eventId', e.target.value)} />
        <label>
          since <input type="datetime-local" value={filters.since} onChange={(e) => set('since', e.target.value)} />
        </label>
        <label>
          until <input type="datetime-local" value={filters.until} onChange={(e) => set('until', e.target.value)} />
        </label>
        {filters.status && can('resend') && (
          <button onClick={() => void bulkResend()} data-testid="bulk-resend">
            Resend all {filters.status} in this filter
          </button>
        )}
      </div>
      <Notice text={notice} />
      <ErrorBanner error={error ?? actionError} />
      {data && data.data.length === 0 && <Empty>{Object.values(filters).some(Boolean) ? 'No delivery matches these filters.' : 'No deliveries yet: publish an event (POST /v1/tenants/{tenant}/events) or send a test event from an endpoint.'}</Empty>}
      {data && data.data.length > 0 && (
        <table data-testid="deliveries">
          <thead>
            <tr>
              <th>Delivery</th>
              <th>Status</th>
              <th>Event type</th>
              <th>Endpoint</th>
              <th>Attempts</th>
              <th>Last answer</th>
              <th>Next attempt</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((d) => (
              <tr key={d.id} data-testid="delivery-row" data-event-id={d.eventId}>
                <td>
                  <Link to={`/t/${tenantId}/deliveries/${d.id}`}>
                    <code>{d.id}</code>
                  </Link>
                </td>
                <td>
                  <Status status={d.status} />
                </td>
                <td>{d.eventType}</td>
                <td>
                  <Link to={`/t/${tenantId}/endpoints/${d.endpointId}`}>
                    <code>{d.endpointId}</code>
                  </Link>
                </td>
                <td>{d.attemptCount}</td>
                <td>{d.lastError ?? d.lastStatusCode ?? '—'}</td>
                <td>{time(d.nextAttemptAt)}</td>
                <td>{time(d.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!tail && <Pager pager={pager} nextCursor={data?.nextCursor} />}
    </section>
  );
}
