import { useCallback, useEffect, useMemo, useState } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { ErrorBanner, message } from '../components/ui';
import { DeliveriesScreen } from '../screens/deliveries/DeliveriesScreen';
import { DeliveryScreen } from '../screens/delivery/DeliveryScreen';
import { EndpointScreen } from '../screens/endpoint/EndpointScreen';
import { EventScreen } from '../screens/events/EventScreen';
import { EventsScreen } from '../screens/events/EventsScreen';
import { OverviewScreen } from '../screens/overview/OverviewScreen';
import { SignInScreen } from '../screens/signin/SignInScreen';
import { SourcesScreen } from '../screens/sources/SourcesScreen';
import { TenantsScreen } from '../screens/tenants/TenantsScreen';
import { Console, useConsole } from './context';
import { forgetKey, storedKey, storeKey, type Principal } from './session';
import { readTheme } from './theme';

export function App() {
  const [me, setMe] = useState<Principal | null>(null);
  const [checking, setChecking] = useState(Boolean(storedKey()));
  const [error, setError] = useState<string | null>(null);

  const identify = useCallback(async () => {
    try {
      setMe(await unwrap(api.GET('/v1/me', {})));
      setError(null);
    } catch (e) {
      forgetKey();
      setMe(null);
      setError(message(e));
    } finally {
      setChecking(false);
    }
  }, []);

  useEffect(() => {
    if (storedKey()) void identify();
    const out = () => setMe(null);
    window.addEventListener('herald:signed-out', out);
    return () => window.removeEventListener('herald:signed-out', out);
  }, [identify]);

  const ctx = useMemo(() => (me ? { me, can: (c: Principal['capabilities'][number]) => me.capabilities.includes(c) } : null), [me]);

  if (checking) return <div className="loading">Loading…</div>;
  if (!ctx) {
    return (
      <SignInScreen
        error={error}
        onKey={(key) => {
          storeKey(key);
          setChecking(true);
          void identify();
        }}
      />
    );
  }
  const home = ctx.me.tenantId ? `/t/${ctx.me.tenantId}` : '/tenants';
  return (
    <Console.Provider value={ctx}>
      <BrowserRouter basename="/console">
        <Routes>
          <Route path="/tenants" element={<Shell>{ctx.me.kind === 'admin' ? <TenantsScreen /> : <Navigate to={home} replace />}</Shell>} />
          <Route path="/t/:tenantId/*" element={<TenantArea />} />
          <Route path="*" element={<Navigate to={home} replace />} />
        </Routes>
      </BrowserRouter>
      <ErrorBanner error={error} />
    </Console.Provider>
  );
}

function Shell({ children, tenantId }: { children: React.ReactNode; tenantId?: string }) {
  const theme = readTheme();
  const { me, can } = useConsole();
  const signOut = () => {
    forgetKey();
    window.location.assign('/console/');
  };
  return (
    <div className="shell">
      <header className="top">
        {theme.logo ? <img src={theme.logo} alt="" className="logo" referrerPolicy="no-referrer" /> : <span className="brand">Herald</span>}
        {tenantId && (
          <nav>
            <NavLink to={`/t/${tenantId}/overview`}>Overview</NavLink>
            <NavLink to={`/t/${tenantId}/deliveries`}>Deliveries</NavLink>
            <NavLink to={`/t/${tenantId}/events`}>Events</NavLink>
            {!me.endpointIds && can('read') && <NavLink to={`/t/${tenantId}/sources`}>Sources</NavLink>}
          </nav>
        )}
        <span className="who" data-testid="who">
          {me.kind === 'admin' ? 'admin' : me.kind === 'tenant' ? 'tenant key' : `portal · ${me.capabilities.join(', ')}`}
          {me.kind === 'admin' && tenantId && (
            <>
              {' · '}
              <NavLink to="/tenants">tenants</NavLink>
            </>
          )}
        </span>
        <button className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}

function TenantArea() {
  const { tenantId } = useParams();
  return (
    <Shell tenantId={tenantId}>
      <Routes>
        <Route path="overview" element={<OverviewScreen />} />
        <Route path="endpoints/:endpointId" element={<EndpointScreen />} />
        <Route path="deliveries" element={<DeliveriesScreen />} />
        <Route path="deliveries/:deliveryId" element={<DeliveryScreen />} />
        <Route path="events" element={<EventsScreen />} />
        <Route path="events/:eventId" element={<EventScreen />} />
        <Route path="sources" element={<SourcesScreen />} />
        <Route path="*" element={<Navigate to="overview" replace />} />
      </Routes>
    </Shell>
  );
}
