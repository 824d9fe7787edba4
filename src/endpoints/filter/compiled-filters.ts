import { CompiledFilter, compileFilter } from './payload-filter';

interface Entry {
  source: unknown;
  filter: CompiledFilter | null;
}

// Keyed by the cached Endpoint object, so a compiled filter lives exactly as long as the endpoint it belongs to.
const compiled = new WeakMap<object, Entry>();

/**
 * The endpoint's filter, compiled once per endpoint object (and again only if its `filter` is replaced).
 * A stored filter that no longer compiles matches nothing: it was validated on write, so this is never expected.
 */
export function compiledFilterOf(endpoint: { filter: Record<string, unknown> | null }): CompiledFilter | null {
  if (!endpoint.filter) return null;
  const hit = compiled.get(endpoint);
  if (hit && hit.source === endpoint.filter) return hit.filter;
  const result = compileFilter(endpoint.filter);
  const filter: CompiledFilter = result.ok ? result.filter : () => ({ matches: false, reason: `${result.path}: ${result.message}` });
  compiled.set(endpoint, { source: endpoint.filter, filter });
  return filter;
}
