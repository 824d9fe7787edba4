/**
 * An endpoint's `eventTypes`: empty means every type; `invoice.paid` matches exactly;
 * a trailing `.*` matches the prefix and anything below it (`invoice.*` ⊇ `invoice.paid`, `invoice.line.added`).
 */
export function matchesEventType(patterns: readonly string[], eventType: string): boolean {
  if (patterns.length === 0) return true;
  for (const pattern of patterns) {
    if (pattern === '*' || pattern === eventType) return true;
    if (pattern.endsWith('.*') && eventType.startsWith(pattern.slice(0, -1))) return true;
  }
  return false;
}

export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const EVENT_TYPE_FILTER_PATTERN = /^(\*|[A-Za-z0-9_.:-]{1,128}|[A-Za-z0-9_.:-]{1,126}\.\*)$/;
