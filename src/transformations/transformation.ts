import jsonata from 'jsonata';

/** What a transformation may spend: evaluation time, call depth, sequence length, and the size of its output. */
export const TRANSFORMATION_LIMITS = { maxExpressionLength: 8192, timeoutMs: 50, stackDepth: 250, maxSequence: 100_000, maxOutputBytes: 1024 * 1024 } as const;

/** The document an expression is evaluated over. */
export interface TransformationInput {
  eventType: string;
  payload: unknown;
}

export type TransformationResult = { ok: true; body: string } | { ok: false; error: string };

type Compiled = { ok: true; expression: jsonata.Expression } | { ok: false; error: string };

const OPTIONS = { timeout: TRANSFORMATION_LIMITS.timeoutMs, stack: TRANSFORMATION_LIMITS.stackDepth, sequence: TRANSFORMATION_LIMITS.maxSequence };
const CACHE_MAX = 1000;
// Compiled expressions by source text: endpoints that share an expression share its compiled form.
const cache = new Map<string, Compiled>();

function messageOf(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { message?: string; code?: string; position?: number };
    if (e.code === 'D1012') return `evaluation exceeded ${TRANSFORMATION_LIMITS.timeoutMs} ms`;
    if (e.message) return e.position !== undefined && e.code?.startsWith('S') ? `${e.message} (at ${e.position})` : e.message;
    if (e.code) return `JSONata error ${e.code}`;
  }
  return String(error);
}

class NotJson extends Error {}

// JSONata functions are objects (lambdas) or JavaScript functions: neither is JSON.
function jsonOnly(_key: string, value: unknown): unknown {
  if (typeof value === 'function' || (value && typeof value === 'object' && ('_jsonata_lambda' in value || '_jsonata_function' in value))) throw new NotJson();
  return value;
}

/** A JSONata expression compiled (JSONata has its own interpreter: no eval, no vm), or why it does not compile. */
export function compileTransformation(source: string): Compiled {
  const hit = cache.get(source);
  if (hit) return hit;
  let compiled: Compiled;
  if (source.length > TRANSFORMATION_LIMITS.maxExpressionLength) compiled = { ok: false, error: `an expression is at most ${TRANSFORMATION_LIMITS.maxExpressionLength} characters` };
  else if (source.trim() === '') compiled = { ok: false, error: 'an expression must not be empty' };
  else {
    try {
      compiled = { ok: true, expression: jsonata(source, OPTIONS as jsonata.JsonataOptions) };
    } catch (error) {
      compiled = { ok: false, error: messageOf(error) };
    }
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(source, compiled);
  return compiled;
}

/**
 * Evaluates the expression over `{eventType, payload}`; its result, serialised, is the body a receiver
 * gets. Fails (never throws) when the expression does not compile, errs, runs past the time limit,
 * produces nothing, or produces more than the output limit.
 */
export async function transform(source: string, input: TransformationInput): Promise<TransformationResult> {
  const compiled = compileTransformation(source);
  if (!compiled.ok) return compiled;
  let value: unknown;
  try {
    value = await compiled.expression.evaluate(input);
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
  if (value === undefined) return { ok: false, error: 'the expression produced no value' };
  let body: string;
  try {
    body = JSON.stringify(value, jsonOnly);
  } catch (error) {
    return { ok: false, error: error instanceof NotJson ? 'the expression produced a function, not JSON' : `the result is not JSON: ${messageOf(error)}` };
  }
  if (Buffer.byteLength(body) > TRANSFORMATION_LIMITS.maxOutputBytes) return { ok: false, error: `the result exceeds ${TRANSFORMATION_LIMITS.maxOutputBytes} bytes` };
  return { ok: true, body };
}
