/**
 * Payload filters: a small JSON query language over an event's payload, compiled once into a tree of
 * predicates. Pure, no I/O.
 *
 *   {"data": {"amount": {"$gte": 1000}, "currency": {"$in": ["EUR", "USD"]}}, "$eventType": {"$startsWith": "invoice."}}
 *
 * A key that is not an operator is a path segment (a dotted key `"data.amount"` is the same path);
 * `$eventType` tests the event type instead of the payload. A literal value means `$eq`. Where a path meets
 * an array, a comparison holds when it holds for the array itself or for any element (as MongoDB does),
 * and a number segment indexes an array (`items.0.sku`). `$neq` and `$nin` are the negations of `$eq` and `$in`,
 * so a missing value is "not equal". Ordering operators compare numbers with numbers and strings with
 * strings; anything else does not match.
 */

export const FILTER_LIMITS = { maxBytes: 8192, maxDepth: 8, maxNodes: 256, maxInValues: 256 } as const;

export interface FilterResult {
  matches: boolean;
  /** Which clause failed (null when the filter matches). */
  reason: string | null;
}

export interface FilterInput {
  eventType: string;
  payload: unknown;
}

export type CompiledFilter = (input: FilterInput) => FilterResult;

export type CompileResult = { ok: true; filter: CompiledFilter } | { ok: false; path: string; message: string };

const COMPARISONS = ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$startsWith'] as const;
type Comparison = (typeof COMPARISONS)[number];
const LOGICAL = new Set(['$and', '$or', '$not']);
const EVENT_TYPE_KEY = '$eventType';

type Node = (input: FilterInput) => string | null; // null: holds; else why not

class FilterProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const MISSING = Symbol('missing');
type Value = unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: Value): string {
  if (v === MISSING) return 'missing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as never)[k], (b as never)[k]));
}

/** The value at `path`, or MISSING; arrays along the way are indexed by number segments, else searched element by element. */
function resolve(root: unknown, path: readonly string[]): Value[] {
  let current: Value[] = [root];
  for (const segment of path) {
    const next: Value[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        if (/^\d+$/.test(segment)) {
          if (Number(segment) < value.length) next.push(value[Number(segment)]);
        } else {
          for (const element of value) if (isPlainObject(element) && Object.prototype.hasOwnProperty.call(element, segment)) next.push(element[segment]);
        }
      } else if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, segment)) {
        next.push(value[segment]);
      }
    }
    current = next;
    if (current.length === 0) return [MISSING];
  }
  return current;
}

/** The candidates a comparison is tried against: the value itself and, for an array, each element. */
function candidates(values: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of values) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function ordered(op: '$gt' | '$gte' | '$lt' | '$lte', a: Value, b: unknown): boolean {
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
  switch (op) {
    case '$gt':
      return a > b;
    case '$gte':
      return a >= b;
    case '$lt':
      return a < b;
    case '$lte':
      return a <= b;
  }
}

function checkOperand(op: Comparison, operand: unknown, path: string): void {
  const fail = (message: string) => {
    throw new FilterProblem(path, message);
  };
  switch (op) {
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (typeof operand !== 'number' && typeof operand !== 'string') fail(`${op} takes a number or a string`);
      break;
    case '$in':
    case '$nin':
      if (!Array.isArray(operand)) fail(`${op} takes an array`);
      if ((operand as unknown[]).length > FILTER_LIMITS.maxInValues) fail(`${op} takes at most ${FILTER_LIMITS.maxInValues} values`);
      break;
    case '$exists':
      if (typeof operand !== 'boolean') fail('$exists takes true or false');
      break;
    case '$startsWith':
      if (typeof operand !== 'string') fail('$startsWith takes a string');
      break;
  }
}

function comparison(op: Comparison, operand: unknown, label: string, get: (input: FilterInput) => Value[]): Node {
  const holds = (values: Value[]): boolean => {
    switch (op) {
      case '$eq':
        return candidates(values).some((v) => deepEqual(v, operand));
      case '$neq':
        return !candidates(values).some((v) => deepEqual(v, operand));
      case '$in':
        return candidates(values).some((v) => (operand as unknown[]).some((o) => deepEqual(v, o)));
      case '$nin':
        return !candidates(values).some((v) => (operand as unknown[]).some((o) => deepEqual(v, o)));
      case '$exists':
        return (values[0] !== MISSING) === operand;
      case '$startsWith':
        return candidates(values).some((v) => typeof v === 'string' && v.startsWith(operand as string));
      default:
        return candidates(values).some((v) => v !== MISSING && ordered(op, v, operand));
    }
  };
  return (input) => {
    const values = get(input);
    if (holds(values)) return null;
    const shown = values.length === 1 ? describe(values[0]) : describe(values.filter((v) => v !== MISSING));
    return `${label}: ${shown} does not satisfy ${op} ${describe(operand)}`;
  };
}

interface Budget {
  nodes: number;
}

function compileLogical(op: string, operand: unknown, path: string, prefix: readonly string[], depth: number, budget: Budget): Node {
  if (op === '$not') {
    if (!isPlainObject(operand)) throw new FilterProblem(path, '$not takes a filter object');
    const inner = compileObject(operand, path, prefix, depth + 1, budget);
    return (input) => (inner(input) === null ? `${path}: the negated filter holds` : null);
  }
  if (!Array.isArray(operand) || operand.length === 0) throw new FilterProblem(path, `${op} takes a non-empty array of filter objects`);
  const parts = operand.map((item, i) => {
    if (!isPlainObject(item)) throw new FilterProblem(`${path}.${i}`, `${op} takes filter objects`);
    return compileObject(item, `${path}.${i}`, prefix, depth + 1, budget);
  });
  if (op === '$and') {
    return (input) => {
      for (const part of parts) {
        const why = part(input);
        if (why !== null) return why;
      }
      return null;
    };
  }
  return (input) => {
    const reasons: string[] = [];
    for (const part of parts) {
      const why = part(input);
      if (why === null) return null;
      reasons.push(why);
    }
    return `${path}: no alternative holds (${reasons.join('; ')})`;
  };
}

/** Compiles the value at a field: an operator object, a nested filter, or a literal (`$eq`). */
function compileField(value: unknown, path: string, target: readonly string[] | 'eventType', depth: number, budget: Budget): Node[] {
  const label = target === 'eventType' ? 'eventType' : target.join('.');
  const get = target === 'eventType' ? (input: FilterInput) => [input.eventType] : (input: FilterInput) => resolve(input.payload, target);
  if (!isPlainObject(value)) return [comparison('$eq', value, label, get)];
  const keys = Object.keys(value);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length === 0 && target !== 'eventType' && keys.length > 0) return [compileObject(value, path, target, depth + 1, budget)];
  if (operators.length !== keys.length || keys.length === 0) {
    if (keys.length === 0) return [comparison('$eq', value, label, get)];
    throw new FilterProblem(path, 'mixes operators and field names; put nested fields in their own object');
  }
  return operators.map((op) => {
    const at = `${path}.${op}`;
    if (++budget.nodes > FILTER_LIMITS.maxNodes) throw new FilterProblem(at, `a filter has at most ${FILTER_LIMITS.maxNodes} clauses`);
    if (LOGICAL.has(op)) {
      if (target === 'eventType') throw new FilterProblem(at, `${op} is not allowed under $eventType`);
      return compileLogical(op, value[op], at, target, depth, budget);
    }
    if (op === EVENT_TYPE_KEY) throw new FilterProblem(at, '$eventType is allowed only at the top of a filter or inside $and/$or/$not there');
    if (!(COMPARISONS as readonly string[]).includes(op)) throw new FilterProblem(at, `unknown operator ${op}`);
    checkOperand(op as Comparison, value[op], at);
    return comparison(op as Comparison, value[op], label, get);
  });
}

function compileObject(doc: Record<string, unknown>, path: string, prefix: readonly string[], depth: number, budget: Budget): Node {
  if (depth > FILTER_LIMITS.maxDepth) throw new FilterProblem(path, `a filter nests at most ${FILTER_LIMITS.maxDepth} levels`);
  const nodes: Node[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const at = `${path}.${key}`;
    if (++budget.nodes > FILTER_LIMITS.maxNodes) throw new FilterProblem(at, `a filter has at most ${FILTER_LIMITS.maxNodes} clauses`);
    if (key === EVENT_TYPE_KEY) {
      if (prefix.length > 0) throw new FilterProblem(at, '$eventType is allowed only at the top of a filter or inside $and/$or/$not there');
      nodes.push(...compileField(value, at, 'eventType', depth, budget));
    } else if (LOGICAL.has(key)) {
      nodes.push(compileLogical(key, value, at, prefix, depth, budget));
    } else if (key.startsWith('$')) {
      throw new FilterProblem(at, (COMPARISONS as readonly string[]).includes(key) ? `${key} needs a field: {"field": {"${key}": …}}` : `unknown operator ${key}`);
    } else {
      const segments = key.split('.');
      if (segments.some((s) => s === '')) throw new FilterProblem(at, 'empty path segment');
      nodes.push(...compileField(value, at, [...prefix, ...segments], depth, budget));
    }
  }
  return (input) => {
    for (const node of nodes) {
      const why = node(input);
      if (why !== null) return why;
    }
    return null;
  };
}

/** Validates and compiles a filter document; a problem names its path (`filter.data.amount.$gte`). */
export function compileFilter(doc: unknown, root = 'filter'): CompileResult {
  if (!isPlainObject(doc)) return { ok: false, path: root, message: 'a filter must be a JSON object' };
  if (JSON.stringify(doc).length > FILTER_LIMITS.maxBytes) return { ok: false, path: root, message: `a filter is at most ${FILTER_LIMITS.maxBytes} bytes of JSON` };
  try {
    const node = compileObject(doc, root, [], 1, { nodes: 0 });
    return {
      ok: true,
      filter: (input) => {
        const reason = node(input);
        return { matches: reason === null, reason };
      },
    };
  } catch (error) {
    if (error instanceof FilterProblem) return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}
