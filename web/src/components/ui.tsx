import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';

/** Loads data when its inputs change; `reload` fetches again. Errors keep the API's message. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | null; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let live = true;
    setLoading(true);
    latest
      .current()
      .then((d) => live && (setData(d), setError(null)))
      .catch((e: unknown) => live && setError(message(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function message(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorBanner({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      {error}
    </div>
  );
}

export function Notice({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <div className="notice" role="status" data-testid="notice">
      {text}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** Server-side cursor pagination: a stack of cursors for "previous". */
export function usePager(resetKey: string) {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setStack([undefined]), [resetKey]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([undefined]),
  };
}

export function Pager({ pager, nextCursor }: { pager: ReturnType<typeof usePager>; nextCursor: string | null | undefined }) {
  return (
    <div className="pager">
      <button disabled={pager.page === 1} onClick={pager.previous}>
        ← Newer
      </button>
      <span>page {pager.page}</span>
      <button disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
        Older →
      </button>
    </div>
  );
}

export function Status({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid="status">
      {status}
    </span>
  );
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return '—';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v)} ms`;
}

export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(v === 1 ? 0 : 1)} %`;
}

/** A JSON value, pretty-printed, each object and array collapsible. */
export function JsonView({ value, name, depth = 0 }: { value: unknown; name?: string; depth?: number }) {
  const [open, setOpen] = useState(depth < 2);
  const label = name !== undefined ? <span className="json-key">{JSON.stringify(name)}: </span> : null;
  if (value === null || typeof value !== 'object') {
    return (
      <div className="json-line">
        {label}
        <span className={`json-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  const [o, c] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return (
    <div className="json-line">
      <button className="json-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? '▾' : '▸'}
      </button>
      {label}
      {o}
      {open ? (
        <div className="json-children">
          {entries.map(([k, v]) => (
            <JsonView key={k} name={Array.isArray(value) ? undefined : k} value={v} depth={depth + 1} />
          ))}
        </div>
      ) : (
        <span className="json-more"> {entries.length} {Array.isArray(value) ? 'items' : 'keys'} </span>
      )}
      {c}
    </div>
  );
}

/** A value shown as dots until revealed. */
export function Masked({ value, testId }: { value: string; testId?: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span className="masked">
      <code data-testid={testId}>{shown ? value : '••••••••'}</code>{' '}
      <button className="link" onClick={() => setShown(!shown)}>
        {shown ? 'hide' : 'show'}
      </button>
    </span>
  );
}
