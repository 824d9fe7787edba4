import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { Empty, ErrorBanner, Pager, time, useLoad, usePager } from '../../components/ui';

/** The admin key sees every tenant: pick one. */
export function TenantsScreen() {
  const pager = usePager('tenants');
  const { data, error } = useLoad(() => unwrap(api.GET('/v1/tenants', { params: { query: { limit: 50, cursor: pager.cursor } } })), [pager.cursor]);
  return (
    <section>
      <h1>Tenants</h1>
      <ErrorBanner error={error} />
      {data && data.data.length === 0 && <Empty>No tenants yet: create one with POST /v1/tenants.</Empty>}
      {data && data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th>uid</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={`/t/${t.id}/overview`}>{t.name}</Link>
                </td>
                <td>
                  <code>{t.id}</code>
                </td>
                <td>{t.uid ?? '—'}</td>
                <td>{time(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextCursor={data?.nextCursor} />
    </section>
  );
}
