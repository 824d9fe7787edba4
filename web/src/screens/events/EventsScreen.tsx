import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useConsole } from '../../app/context';
import { Empty, ErrorBanner, Notice, Pager, message, time, useLoad, usePager } from '../../components/ui';

/** Events published to this tenant, newest first; a test event can be sent to one endpoint from here. */
export function EventsScreen() {
  const { tenantId } = useParams() as { tenantId: string };
  const { can } = useConsole();
  const [params, setParams] = useSearchParams();
  const eventType = params.get('eventType') ?? '';
  const pager = usePager(eventType);
  const { data, error } = useLoad(
    () => unwrap(api.GET('/v1/tenants/{tenantId}/events', { params: { path: { tenantId }, query: { limit: 50, cursor: pager.cursor, eventType: eventType || undefined } } })),
    [tenantId, eventType, pager.cursor],
  );
  return (
    <section>
      <h1>Events</h1>
      <div className="filters">
        <input placeholder="event type" value={eventType} onChange={(e) => setParams(e.target.value ? { eventType: e.target.value } : {}, { replace: true })} />
      </div>
      {can('manage-endpoints') && <TestSend tenantId={tenantId} />}
      <ErrorBanner error={error} />
      {data && data.data.length === 0 && <Empty>No events yet: publish one with POST /v1/tenants/{tenantId}/events, or send a test event above.</Empty>}
      {data && data.data.length > 0 && (
        <table data-testid="events">
          <thead>
            <tr>
              <th>Event</th>
              <th>Type</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.data.map((e) => (
              <tr key={e.id}>
                <td>
                  <Link to={`/t/${tenantId}/events/${e.id}`}>
                    <code>{e.id}</code>
                  </Link>
                </td>
                <td>{e.eventType}</td>
                <td>{time(e.createdAt)}</td>
                <td>
                  <Link to={`/t/${tenantId}/deliveries?eventId=${e.id}`}>deliveries</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextCursor={data?.nextCursor} />
    </section>
  );
}

function TestSend({ tenantId }: { tenantId: string }) {
  const endpoints = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/endpoints', { params: { path: { tenantId }, query: { limit: 100 } } })), [tenantId]);
  const [endpointId, setEndpointId] = useState('');
  const [eventType, setEventType] = useState('herald.test');
  const [payload, setPayload] = useState('{\n  "hello": "world"\n}');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    setError(null);
    setNotice(null);
    try {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(payload);
      } catch {
        throw new Error('payload: not valid JSON');
      }
      const sent = await unwrap(api.POST('/v1/tenants/{tenantId}/endpoints/{endpointId}/send-example', { params: { path: { tenantId, endpointId } }, body: { eventType, payload: body } }));
      setNotice(`Test event ${sent.id} sent (delivery ${sent.deliveryId})`);
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <details className="card">
      <summary>Send a test event</summary>
      <div className="form">
        <label>
          Endpoint
          <select value={endpointId} onChange={(e) => setEndpointId(e.target.value)}>
            <option value="">choose…</option>
            {endpoints.data?.data.map((e) => (
              <option key={e.id} value={e.id}>
                {e.url}
              </option>
            ))}
          </select>
        </label>
        <label>
          Event type
          <input value={eventType} onChange={(e) => setEventType(e.target.value)} />
        </label>
        <label>
          Payload (JSON object)
          <textarea rows={5} value={payload} onChange={(e) => setPayload(e.target.value)} />
        </label>
        <button className="primary" disabled={!endpointId} onClick={() => void send()}>
          Send
        </button>
        <Notice text={notice} />
        <ErrorBanner error={error} />
      </div>
    </details>
  );
}
