import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorBanner, JsonView, Status, time, useLoad } from '../../components/ui';

/** One event: its payload (pretty-printed, collapsible) and its deliveries. */
export function EventScreen() {
  const { tenantId, eventId } = useParams() as { tenantId: string; eventId: string };
  const event = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/events/{eventId}', { params: { path: { tenantId, eventId } } })), [tenantId, eventId]);
  const deliveries = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/deliveries', { params: { path: { tenantId }, query: { eventId, limit: 250 } } })), [tenantId, eventId]);
  const e = event.data;
  return (
    <section>
      <h1>
        Event <code>{eventId}</code>
      </h1>
      <ErrorBanner error={event.error ?? deliveries.error} />
      {e && (
        <>
          <p>
            <strong>{e.eventType}</strong> · {time(e.createdAt)}
          </p>
          <div className="card json" data-testid="payload">
            <JsonView value={e.payload} />
          </div>
        </>
      )}
      <h2>Deliveries</h2>
      {deliveries.data && deliveries.data.data.length === 0 && <p className="empty">No endpoint subscribed to this event.</p>}
      <ul className="plain">
        {deliveries.data?.data.map((d) => (
          <li key={d.id}>
            <Status status={d.status} /> <Link to={`/t/${tenantId}/deliveries/${d.id}`}>{d.id}</Link> → <Link to={`/t/${tenantId}/endpoints/${d.endpointId}`}>{d.endpointId}</Link> · {d.attemptCount} attempts
          </li>
        ))}
      </ul>
    </section>
  );
}
