import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** One reason a value fails its schema: where (a JSON pointer into the value) and why. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

export type CompiledSchema = (value: unknown) => SchemaProblem[];

function makeAjv<T extends Ajv>(ajv: T): T {
  addFormats(ajv);
  return ajv;
}

// Two engines: draft-07 schemas keep their own semantics (items as a tuple, definitions); everything else is 2020-12.
const draft07 = makeAjv(new Ajv({ strict: false, allErrors: true }));
const draft2020 = makeAjv(new Ajv2020({ strict: false, allErrors: true }));

function engineFor(schema: Record<string, unknown>): Ajv {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  return /draft-0[4-7]/.test(declared) ? draft07 : draft2020;
}

/** Ajv reports a missing property at its parent; point at the property itself. */
export function toProblem(error: ErrorObject): SchemaProblem {
  const missing = error.keyword === 'required' ? (error.params as { missingProperty?: string }).missingProperty : undefined;
  const pointer = missing !== undefined ? `${error.instancePath}/${missing.replace(/~/g, '~0').replace(/\//g, '~1')}` : error.instancePath;
  const message = missing !== undefined ? 'is required' : (error.message ?? 'is not valid');
  return { pointer: pointer || '/', message };
}

/**
 * Compiles a JSON Schema (draft 2020-12 by default, draft-07 when its $schema names it) into a function
 * listing every problem of a value. Throws with Ajv's message when the schema itself is not valid.
 */
export function compileSchema(schema: Record<string, unknown>): CompiledSchema {
  const ajv = engineFor(schema);
  // Ajv keeps schemas by $id; compile a copy without it so a schema may be replaced under the same $id.
  const { $id: _id, ...rest } = schema;
  const validate: ValidateFunction = ajv.compile(rest);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(toProblem));
}

/** Why a schema cannot be used, or null. */
export function schemaProblem(schema: Record<string, unknown>): string | null {
  try {
    compileSchema(schema);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
