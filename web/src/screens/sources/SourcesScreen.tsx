import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { Empty, ErrorBanner, Pager, time, useLoad, usePager } from '../../components/ui';

/** Inbound sources: their ingest URLs, and each one's request log with the verification outcome. */
export function SourcesScreen() {
  const { tenantId } = useParams() as { tenantId: string };
  const pager = usePager(tenantId);
  const [open, setOpen] = useState<string | null>(null);
  const { data, error } = useLoad(() => unwrap(api.GET('/v1/tenants/{tenantId}/sources', { params: { path: { tenantId }, query: { limit: 50, cursor: pager.cursor } } })), [tenantId, pager.cursor]);
  return (
    <section>
      <h1>Sources</h1>
      <ErrorBanner error={error} />
      {data && data.data.length === 0 && <Empty>No sources yet: create one with POST /v1/tenants/{tenantId}/sources to receive Stripe, GitHub or other webhooks.</Empty>}
      {data?.data.map((s) => (
        <div className="card" key={s.id}>
          <div className="title-row">
            <h2>{s.name}</h2>
            <span className="badge">{s.verifier.type}</span>
          </div>
          <p>
            Ingest URL: <code>{s.ingestUrl}</code>
          </p>
          <button onClick={() => setOpen(open === s.id ? null : s.id)}>{open === s.id ? 'Hide requests' : 'Request log'}</button>
          {open === s.id && <Requests tenantId={tenantId} sourceId={s.id} />}
        </div>
      ))}
      <Pager pager={pager} nextCursor={data?.nextCursor} />
    </section>
  );
}

function Requests({ tenantId, sourceId }: { tenantId: string; sourceId: string }) {
  const pager = usePager(sourceId);
  const { data, error } = useLoad(
    () => unwrap(api.GET('/v1/tenants/{tenantId}/sources/{sourceId}/requests', { params: { path: { tenantId, sourceId }, query: { limit: 50, cursor: pager.cursor } } })),
    [tenantId, sourceId, pager.cursor],
  );
  return (
    <>
      <ErrorBanner error={error} />
      {data && data.data.length === 0 && <p className="empty">Nothing received yet.</p>}
      {data && data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Received</th>
              <th>Answer</th>
              <th>Verification</th>
              <th>Event</th>
              <th>Size</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((r) => (
              <tr key={r.id}>
                <td>{time(r.receivedAt)}</td>
                <td>{r.statusCode}</td>
                <td className={r.accepted ? '' : 'warn'}>{r.accepted ? (r.duplicate ? 'verified (duplicate, not delivered again)' : 'verified') : `refused: ${r.reason ?? 'unknown'}`}</td>
                <td>{r.eventId ? `${r.eventType} · ${r.eventId}` : '—'}</td>
                <td>{r.bodyBytes} B</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextCursor={data?.nextCursor} />
    </>
  );
}
