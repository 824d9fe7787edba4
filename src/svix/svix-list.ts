import { SvixValidationError } from './svix-errors';

export type SvixOrdering = 'ascending' | 'descending';

/** A Svix list request, made concrete: which way to read the ids, from where, and whether to flip the page. */
export interface SvixListRequest {
  limit: number;
  /** Read ids strictly after this one in `direction`. */
  from?: string;
  direction: 'ASC' | 'DESC';
  /** A `-<id>` iterator (Svix's prevIterator) pages backwards: read the other way, then reverse. */
  backwards: boolean;
}

export interface SvixListResponse<T> {
  data: T[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

type Query = Record<string, string | string[] | undefined>;

function one(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Reads `limit` (1..250, default 50), `iterator` and `order` as Svix's servers do; 422 naming the query field. Pure. */
export function parseListRequest(query: Query, defaultOrder: SvixOrdering): SvixListRequest {
  const rawLimit = one(query, 'limit');
  let limit = 50;
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 250) {
      throw new SvixValidationError([{ loc: ['query', 'limit'], msg: 'limit must be an integer from 1 to 250', type: 'value_error' }]);
    }
    limit = Number(rawLimit);
  }
  const order = one(query, 'order') ?? defaultOrder;
  if (order !== 'ascending' && order !== 'descending') {
    throw new SvixValidationError([{ loc: ['query', 'order'], msg: 'order must be ascending or descending', type: 'value_error' }]);
  }
  const iterator = one(query, 'iterator') || undefined;
  const backwards = !!iterator?.startsWith('-');
  const forward: 'ASC' | 'DESC' = order === 'ascending' ? 'ASC' : 'DESC';
  return {
    limit,
    from: backwards ? iterator!.slice(1) : iterator,
    direction: backwards ? (forward === 'ASC' ? 'DESC' : 'ASC') : forward,
    backwards,
  };
}

/** SQL comparison for "after `from` in this direction". */
export function afterOperator(request: SvixListRequest): '>' | '<' {
  return request.direction === 'ASC' ? '>' : '<';
}

/** Builds Svix's list answer from rows read with LIMIT limit + 1. Pure. */
export function toSvixList<R, T>(rows: R[], request: SvixListRequest, idOf: (row: R) => string, map: (row: R) => T): SvixListResponse<T> {
  const done = rows.length <= request.limit;
  const kept = rows.slice(0, request.limit);
  if (request.backwards) kept.reverse();
  return {
    data: kept.map(map),
    iterator: kept.length ? idOf(kept[kept.length - 1]) : (request.backwards ? null : (request.from ?? null)),
    prevIterator: kept.length ? `-${idOf(kept[0])}` : null,
    done,
  };
}
