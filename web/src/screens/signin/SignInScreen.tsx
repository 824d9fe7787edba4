import { useState } from 'react';
import { ErrorBanner } from '../../components/ui';

/** Sign in with the admin key or a tenant key. The key stays in this tab's session storage. */
export function SignInScreen({ onKey, error }: { onKey: (key: string) => void; error: string | null }) {
  const [key, setKey] = useState('');
  return (
    <div className="signin">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onKey(key.trim());
        }}
      >
        <h1>Herald console</h1>
        <p>Sign in with the admin key (HERALD_ADMIN_KEY) or a tenant key. It is kept in this tab only and never put in a URL.</p>
        <label>
          API key
          <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} data-testid="key" autoFocus />
        </label>
        <button type="submit" className="primary" data-testid="sign-in">
          Sign in
        </button>
        <ErrorBanner error={error} />
        <p className="hint">Customers of a tenant open a portal link instead (POST /v1/tenants/&#123;tenant&#125;/portal-sessions).</p>
      </form>
    </div>
  );
}
