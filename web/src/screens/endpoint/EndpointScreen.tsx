import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useConsole } from '../../app/context';
import { StatsChart } from '../../components/charts';
import { ErrorBanner, Notice, ago, message, ms, percent, time, useLoad } from '../../components/ui';
import { EndpointForm, type EndpointFields } from './EndpointForm';

const WINDOWS = { '24h': '1h', '7d': '6h', '30d': '1d' } as const;

/** Create, or view and edit one endpoint: its fields, state, secret, charts and a test send. */
export function EndpointScreen() {
  const { tenantId, endpointId } = useParams() as { tenantId: string; endpointId: string };
  const creating = endpointId === 'new';
  const { can } = useConsole();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [range, setRange] = useState<keyof typeof WINDOWS>('24h');
  const [secret, setSecret] = useState<{ secret: string; previousSecretSignsUntil: string | null } | null>(null);
  const path = { tenantId, endpointId };

  const endpoint = useLoad(() => (creating ? Promise.resolve(undefined) : unwrap(api.GET('/v1/tenants/{tenantId}/endpoints/{endpointId}', { params: { path } }))), [tenantId, endpointId]);
  const stats = useLoad(
    () => (creating ? Promise.resolve(undefined) : unwrap(api.GET('/v1/tenants/{tenantId}/endpoints/{endpointId}/stats', { params: { path, query: { window: range, step: WINDOWS[range] } } }))),
    [tenantId, endpointId, range],
  );
  const known = useLoad(async () => {
    const page = await unwrap(api.GET('/v1/tenants/{tenantId}/events', { params: { path: { tenantId }, query: { limit: 100 } } }));
    return [...new Set(page.data.map((e) => e.eventType))].sort();
  }, [tenantId]);

  const act = async (what: () => Promise<string | void>) => {
    setError(null);
    setNotice(null);
    try {
      const done = await what();
      if (done) setNotice(done);
    } catch (e) {
      setError(message(e));
    }
  };

  const save = (fields: EndpointFields) =>
    act(async () => {
      if (creating) {
        const created = await unwrap(api.POST('/v1/tenants/{tenantId}/endpoints', { params: { path: { tenantId } }, body: fields }));
        navigate(`/t/${tenantId}/endpoints/${created.id}`, { replace: true });
        return 'Endpoint created';
      }
      await unwrap(api.PATCH('/v1/tenants/{tenantId}/endpoints/{endpointId}', { params: { path }, body: fields }));
      endpoint.reload();
      return 'Saved';
    });

  const e = endpoint.data;
  const s = stats.data;
  return (
    <section>
      <div className="title-row">
        <h1>{creating ? 'New endpoint' : (e?.url ?? 'Endpoint')}</h1>
        {!creating && e && <code className="sub">{e.id}</code>}
      </div>
      <Notice text={notice} />
      <ErrorBanner error={error ?? endpoint.error} />
      {!creating && e && (
        <div className="card state">
          <div>
            <strong>{e.disabled ? 'Disabled' : 'Enabled'}</strong>
            {e.disabled && <span className="warn"> — reason: {e.disabledReason ?? 'manual'}</span>}
          </div>
          {can('manage-endpoints') && (
            <div className="actions">
              <button onClick={() => void act(async () => (await unwrap(api.PATCH('/v1/tenants/{tenantId}/endpoints/{endpointId}', { params: { path }, body: { disabled: !e.disabled } })), endpoint.reload(), e.disabled ? 'Enabled: waiting deliveries resume' : 'Disabled: new deliveries wait'))} data-testid="toggle-disabled">
                {e.disabled ? 'Enable' : 'Disable'}
              </button>
              <button onClick={() => void act(async () => `Test event ${(await unwrap(api.POST('/v1/tenants/{tenantId}/endpoints/{endpointId}/send-example', { params: { path }, body: {} }))).id} sent`)} data-testid="send-test">
                Send test event
              </button>
              <button
                className="danger"
                onClick={() =>
                  window.confirm(`Delete ${e.url}? Its pending deliveries go to the dead-letter queue.`) &&
                  void act(async () => {
                    await unwrap(api.DELETE('/v1/tenants/{tenantId}/endpoints/{endpointId}', { params: { path } }));
                    navigate(`/t/${tenantId}/overview`);
                  })
                }
              >
                Delete
              </button>
            </div>
          )}
        </div>
      )}
      {!creating && s && (
        <div className="card">
          <div className="title-row">
            <h2>Deliveries and latency</h2>
            <div className="segmented">
              {(Object.keys(WINDOWS) as (keyof typeof WINDOWS)[]).map((w) => (
                <button key={w} className={w === range ? 'active' : ''} onClick={() => setRange(w)}>
                  {w}
                </button>
              ))}
            </div>
          </div>
          <p className="figures">
            <span>success (24 h) {percent(s.lastDay.successRate)}</span>
            <span>p50 {ms(s.lastDay.p50LatencyMs)}</span>
            <span>p99 {ms(s.lastDay.p99LatencyMs)}</span>
            <span>circuit {s.circuit.state}</span>
            {s.circuit.failingSince && <span className="warn">failing since {ago(s.circuit.failingSince)}</span>}
            <span>
              <Link to={`/t/${tenantId}/deliveries?endpointId=${endpointId}&status=pending`}>{s.deliveries.pending} pending</Link>
            </span>
            <span>
              <Link to={`/t/${tenantId}/deliveries?endpointId=${endpointId}&status=dead`}>{s.deliveries.dead} dead</Link>
            </span>
          </p>
          {s.series && <StatsChart points={s.series.points} step={s.series.step} />}
        </div>
      )}
      {!creating && (can('view-secrets') || can('rotate-secrets')) && (
        <div className="card">
          <h2>Signing secret</h2>
          {secret ? (
            <p>
              <code data-testid="secret">{secret.secret}</code>
            </p>
          ) : (
            <p className="sub">Hidden. Receivers verify the webhook-signature header with it (Standard Webhooks).</p>
          )}
          {secret?.previousSecretSignsUntil && <p className="warn">The previous secret keeps signing beside this one until {time(secret.previousSecretSignsUntil)}: both signatures are sent until then.</p>}
          <div className="actions">
            {can('view-secrets') && !secret && (
              <button onClick={() => void act(async () => setSecret(await unwrap(api.GET('/v1/tenants/{tenantId}/endpoints/{endpointId}/secret', { params: { path } }))))} data-testid="reveal-secret">
                Reveal
              </button>
            )}
            {can('rotate-secrets') && (
              <button
                onClick={() =>
                  window.confirm('Rotate the secret? The old one keeps signing beside the new one for 24 hours.') &&
                  void act(async () => {
                    const next = await unwrap(api.POST('/v1/tenants/{tenantId}/endpoints/{endpointId}/secret/rotate', { params: { path } }));
                    setSecret(can('view-secrets') ? next : { secret: '(hidden: needs view-secrets)', previousSecretSignsUntil: next.previousSecretSignsUntil });
                    return 'Secret rotated';
                  })
                }
                data-testid="rotate-secret"
              >
                Rotate
              </button>
            )}
          </div>
        </div>
      )}
      {(creating || e) && (
        <div className="card">
          <h2>{creating ? 'Settings' : can('manage-endpoints') ? 'Edit' : 'Settings'}</h2>
          <EndpointForm key={e?.updatedAt ?? 'new'} initial={e} knownTypes={known.data ?? []} onSubmit={(f) => void save(f)} submitLabel={creating ? 'Create endpoint' : 'Save'} readOnly={!can('manage-endpoints')} />
        </div>
      )}
    </section>
  );
}
