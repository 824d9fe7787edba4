import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useConsole } from '../../app/context';
import { ErrorBanner, Notice, Status, message, time, useLoad } from '../../components/ui';

type Attempt = Schemas['AttemptView'];

/** One delivery: its attempts as a timeline, each with the request sent and the answer received. */
export function DeliveryScreen() {
  const { tenantId, deliveryId } = useParams() as { tenantId: string; deliveryId: string };
  const { can } = useConsole();
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const path = { tenantId, deliveryId };
  const delivery = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', { params: { path } })), [tenantId, deliveryId]);
  const attempts = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}/attempts', { params: { path } })), [tenantId, deliveryId]);
  const reload = () => (delivery.reload(), attempts.reload());

  const resend = async () => {
    setActionError(null);
    try {
      await unwrap(api.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/resend', { params: { path } }));
      setNotice('Resent: a manual attempt is on its way');
      // The attempt is recorded within moments; show it without a manual refresh.
      for (const wait of [500, 1500, 3000, 6000]) setTimeout(reload, wait);
    } catch (e) {
      setActionError(message(e));
    }
  };

  const d = delivery.data;
  return (
    <section>
      <div className="title-row">
        <h1>
          Delivery <code>{deliveryId}</code>
        </h1>
        <button onClick={reload}>Refresh</button>
        {can('resend') && (
          <button className="primary" onClick={() => void resend()} data-testid="resend">
            Resend
          </button>
        )}
      </div>
      <Notice text={notice} />
      <ErrorBanner error={delivery.error ?? attempts.error ?? actionError} />
      {d && (
        <dl className="card facts">
          <dt>Status</dt>
          <dd>
            <Status status={d.status} />
          </dd>
          <dt>Event</dt>
          <dd>
            <Link to={`/t/${tenantId}/events/${d.eventId}`}>
              <code>{d.eventId}</code>
            </Link>{' '}
            {d.eventType}
          </dd>
          <dt>Endpoint</dt>
          <dd>
            <Link to={`/t/${tenantId}/endpoints/${d.endpointId}`}>
              <code>{d.endpointId}</code>
            </Link>
          </dd>
          <dt>Attempts</dt>
          <dd>{d.attemptCount}</dd>
          <dt>Next retry</dt>
          <dd data-testid="next-retry">{d.nextAttemptAt ? time(d.nextAttemptAt) : d.status === 'pending' ? 'waiting (endpoint disabled)' : 'none'}</dd>
          <dt>Created</dt>
          <dd>{time(d.createdAt)}</dd>
        </dl>
      )}
      <h2>Attempts</h2>
      {attempts.data && attempts.data.data.length === 0 && <p className="empty">No attempt yet: the first one is queued.</p>}
      <ol className="timeline" data-testid="timeline">
        {attempts.data?.data.map((a) => <AttemptItem key={a.id} attempt={a} tenantId={tenantId} deliveryId={deliveryId} />)}
      </ol>
    </section>
  );
}

function AttemptItem({ attempt: a, tenantId, deliveryId }: { attempt: Attempt; tenantId: string; deliveryId: string }) {
  const [open, setOpen] = useState(false);
  const ok = a.error === null && a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
  const request = useLoad(
    () => (open ? unwrap(api.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}/attempts/{attemptId}/request', { params: { path: { tenantId, deliveryId, attemptId: a.id } } })) : Promise.resolve(undefined)),
    [open],
  );
  return (
    <li className={ok ? 'ok' : 'failed'} data-testid="attempt" data-trigger={a.trigger}>
      <button className="attempt-head" onClick={() => setOpen(!open)} aria-expanded={open}>
        <span className="num">#{a.attemptNumber}</span>
        <span className={`badge badge-${ok ? 'succeeded' : 'dead'}`}>{a.statusCode ?? 'no answer'}</span>
        <span className="trigger">{a.trigger}</span>
        <span>{time(a.startedAt)}</span>
        <span>{a.durationMs} ms</span>
        {a.error && <span className="warn">{a.error}</span>}
      </button>
      {open && (
        <div className="attempt-body">
          <ErrorBanner error={request.error} />
          <h3>Request</h3>
          {request.data && (
            <>
              <p>
                POST <code>{request.data.url}</code>
              </p>
              <Headers headers={request.data.headers} testId="request-headers" />
            </>
          )}
          <h3>Response</h3>
          {a.responseHeaders ? <Headers headers={a.responseHeaders} testId="response-headers" /> : <p className="sub">no response headers</p>}
          <pre className="body" data-testid="response-body">
            {a.responseBody ?? '(no body)'}
          </pre>
        </div>
      )}
    </li>
  );
}

function Headers({ headers, testId }: { headers: Record<string, string>; testId: string }) {
  return (
    <table className="headers" data-testid={testId}>
      <tbody>
        {Object.entries(headers).map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
