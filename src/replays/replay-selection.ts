import { ReplayedStatus } from './replay.entity';

/** What a replay selects, as SQL over `deliveries d` (or `events e` for `missing`): the pure part of its queries. */
export interface ReplayCriteria {
  tenantId: string;
  endpointId: string | null;
  since: Date;
  until: Date;
  eventTypes: string[] | null;
  statuses: ReplayedStatus[];
}

// "failed" is a delivery still retrying after a failure (as recover always meant).
const STATUS_SQL: Record<ReplayedStatus, string> = {
  dead: `d.status = 'dead'`,
  succeeded: `d.status = 'succeeded'`,
  // Not one being attempted right now (claimed): its outcome is about to be recorded.
  failed: `(d.status = 'pending' AND d.attempt_count > 0 AND d.last_error IS NOT NULL AND (d.claimed_until IS NULL OR d.claimed_until < now()))`,
};

/** Exact types and prefixes (`invoice.*` → `invoice.`) of a replay's eventTypes. */
export function typeParams(eventTypes: string[] | null): { exact: string[] | null; prefixes: string[] | null } {
  if (!eventTypes || eventTypes.length === 0 || eventTypes.includes('*')) return { exact: null, prefixes: null };
  return { exact: eventTypes.filter((t) => !t.endsWith('.*')), prefixes: eventTypes.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1)) };
}

/**
 * The WHERE clause and parameters ($1…$6) selecting a replay's candidates in `alias` (d: deliveries, e: events),
 * after `position` (exclusive) when given as $7.
 */
export function candidateFilter(criteria: ReplayCriteria, alias: 'd' | 'e', missingFor?: string): { where: string; params: unknown[] } {
  const { exact, prefixes } = typeParams(criteria.eventTypes);
  const clauses = [
    `${alias}.tenant_id = $1`,
    `${alias}.created_at >= $2`,
    `${alias}.created_at < $3`,
    `($4::text[] IS NULL OR ${alias}.event_type = ANY($4) OR EXISTS (SELECT 1 FROM unnest($5::text[]) AS p(prefix) WHERE starts_with(${alias}.event_type, p.prefix)))`,
  ];
  if (alias === 'd') {
    clauses.push(`($6::varchar IS NULL OR d.endpoint_id = $6)`, `(${criteria.statuses.map((s) => STATUS_SQL[s]).join(' OR ')})`);
  } else {
    // Events the endpoint never got a delivery of.
    clauses.push(`NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.event_id = e.id AND x.endpoint_id = $6)`);
  }
  return {
    where: clauses.join(' AND '),
    params: [criteria.tenantId, criteria.since, criteria.until, exact, prefixes ?? [], alias === 'd' ? criteria.endpointId : missingFor],
  };
}
