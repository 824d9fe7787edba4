import { useState } from 'react';
import type { Schemas } from '../../api/client';

type Endpoint = Schemas['EndpointView'];
export type EndpointFields = Schemas['CreateEndpointDto'];

const numberOrNull = (v: string) => (v.trim() === '' ? null : Number(v));

/** Every endpoint field; header values are masked while not being edited. */
export function EndpointForm({ initial, knownTypes, onSubmit, submitLabel, readOnly }: { initial?: Endpoint; knownTypes: string[]; onSubmit: (fields: EndpointFields) => void; submitLabel: string; readOnly: boolean }) {
  const [url, setUrl] = useState(initial?.url ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [types, setTypes] = useState<string[]>(initial?.eventTypes ?? []);
  const [typeInput, setTypeInput] = useState('');
  const [rate, setRate] = useState(initial?.rateLimitPerSecond?.toString() ?? '');
  const [inFlight, setInFlight] = useState(initial?.maxInFlight?.toString() ?? '');
  const [timeout, setTimeoutMs] = useState(String(initial?.timeoutMs ?? 15000));
  const [ordering, setOrdering] = useState<Endpoint['ordering']>(initial?.ordering ?? 'none');
  const [policy, setPolicy] = useState(initial?.retryPolicy ?? { maxAttempts: 8, initialDelayMs: 5000, maxDelayMs: 36_000_000, multiplier: 5 });
  const [headers, setHeaders] = useState<[string, string][]>(Object.entries(initial?.headers ?? {}));
  const [editingHeader, setEditingHeader] = useState<number | null>(null);

  const addType = () => {
    const t = typeInput.trim();
    if (t && !types.includes(t)) setTypes([...types, t]);
    setTypeInput('');
  };
  const submit = () =>
    onSubmit({
      url,
      description,
      eventTypes: types,
      rateLimitPerSecond: numberOrNull(rate),
      maxInFlight: numberOrNull(inFlight),
      timeoutMs: Number(timeout),
      ordering,
      retryPolicy: policy,
      headers: Object.fromEntries(headers.filter(([k]) => k.trim())),
    } as EndpointFields);

  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <fieldset disabled={readOnly}>
        <label>
          URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/webhooks" data-testid="url" />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} data-testid="description" />
        </label>
        <div className="field">
          <span>Event types (none: all; a trailing .* matches a prefix)</span>
          <div className="chips">
            {types.map((t) => (
              <span className="chip" key={t}>
                {t}
                {!readOnly && (
                  <button type="button" className="link" onClick={() => setTypes(types.filter((x) => x !== t))} aria-label={`remove ${t}`}>
                    ×
                  </button>
                )}
              </span>
            ))}
            {!readOnly && (
              <>
                <input
                  list="known-types"
                  value={typeInput}
                  onChange={(e) => setTypeInput(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      addType();
                    }
                  }}
                  placeholder="invoice.* or invoice.paid"
                  data-testid="event-type"
                />
                <button type="button" onClick={addType}>
                  Add
                </button>
                <datalist id="known-types">
                  {knownTypes.flatMap((t) => [t, `${t.split('.')[0]}.*`]).filter((t, i, all) => all.indexOf(t) === i).map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
          </div>
        </div>
        <div className="grid">
          <label>
            Rate limit (requests/s, empty: none)
            <input type="number" min={1} value={rate} onChange={(e) => setRate(e.target.value)} />
          </label>
          <label>
            Max in flight (empty: none)
            <input type="number" min={1} value={inFlight} onChange={(e) => setInFlight(e.target.value)} />
          </label>
          <label>
            Timeout (ms)
            <input type="number" min={100} max={60000} value={timeout} onChange={(e) => setTimeoutMs(e.target.value)} />
          </label>
          <label>
            Ordering
            <select value={ordering} onChange={(e) => setOrdering(e.target.value as Endpoint['ordering'])} data-testid="ordering">
              <option value="none">none: any order, in parallel</option>
              <option value="key">by key: one orderingKey at a time, in publish order</option>
            </select>
          </label>
        </div>
        <div className="grid">
          {(['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'multiplier'] as const).map((k) => (
            <label key={k}>
              Retry {k}
              <input type="number" value={policy[k]} onChange={(e) => setPolicy({ ...policy, [k]: Number(e.target.value) })} />
            </label>
          ))}
        </div>
        <div className="field">
          <span>Headers sent with every request</span>
          {headers.map(([k, v], i) => (
            <div className="header-row" key={i}>
              <input value={k} placeholder="x-header" onChange={(e) => setHeaders(headers.map((h, j) => (j === i ? [e.target.value, h[1]] : h)))} />
              {editingHeader === i ? (
                <input value={v} onChange={(e) => setHeaders(headers.map((h, j) => (j === i ? [h[0], e.target.value] : h)))} onBlur={() => setEditingHeader(null)} autoFocus />
              ) : (
                <button type="button" className="masked-value" onClick={() => setEditingHeader(i)} title="edit the value">
                  {v ? '••••••••' : '(empty)'}
                </button>
              )}
              {!readOnly && (
                <button type="button" className="link" onClick={() => setHeaders(headers.filter((_, j) => j !== i))}>
                  remove
                </button>
              )}
            </div>
          ))}
          {!readOnly && (
            <button type="button" onClick={() => (setHeaders([...headers, ['', '']]), setEditingHeader(headers.length))}>
              Add header
            </button>
          )}
        </div>
        {!readOnly && (
          <button type="submit" className="primary" data-testid="save-endpoint">
            {submitLabel}
          </button>
        )}
      </fieldset>
    </form>
  );
}
