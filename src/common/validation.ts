import { ArgumentMetadata, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { FieldProblem, InvalidInputError } from './errors';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      // class-validator prefixes messages with the property name; keep the full path instead.
      problems.push({ field, message: message.startsWith(`${error.property} `) ? `${field}${message.slice(error.property.length)}` : message });
    }
    if (error.children?.length) problems.push(...flatten(error.children, field));
  }
  return problems;
}

/** DTO classes and their free-form fields (payloads, metadata, header maps), marked with @AsParsed(). */
const AS_PARSED = new Map<object, string[]>();

/**
 * Marks a free-form JSON field whose value must reach the service exactly as the body parser made it.
 * The ValidationPipe strips keys named `__proto__`, `constructor` and `prototype` from the whole body, in
 * place, and class-transformer drops others named like members of Object.prototype (`valueOf`, `toString`,
 * …); a payload is relayed byte for byte, so these fields are validated as usual and then put back as parsed.
 */
export function AsParsed(): PropertyDecorator {
  return (target, key) => {
    const fields = AS_PARSED.get(target.constructor) ?? [];
    AS_PARSED.set(target.constructor, [...fields, String(key)]);
  };
}

function asParsedFieldsOf(value: object): string[] {
  const fields: string[] = [];
  for (let proto = Object.getPrototypeOf(value); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    fields.push(...(AS_PARSED.get(proto.constructor) ?? []));
  }
  return fields;
}

/** Puts the free-form fields of a validated DTO (and of the DTOs nested in it) back as they were parsed. */
function restoreAsParsed(entity: unknown, pristine: unknown): void {
  if (entity === null || typeof entity !== 'object' || pristine === null || typeof pristine !== 'object') return;
  const fields = asParsedFieldsOf(entity);
  for (const field of fields) {
    if (Object.prototype.hasOwnProperty.call(pristine, field)) (entity as Record<string, unknown>)[field] = (pristine as Record<string, unknown>)[field];
  }
  for (const key of Object.keys(entity)) {
    if (!fields.includes(key) && Object.prototype.hasOwnProperty.call(pristine, key)) restoreAsParsed((entity as Record<string, unknown>)[key], (pristine as Record<string, unknown>)[key]);
  }
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/** A DTO's rules checked by hand: the DTO when the body certainly passes them, undefined when it might not. */
export type PlainCheck<T> = (body: Record<string, unknown>) => T | undefined;

const PLAIN_CHECKS = new Map<unknown, PlainCheck<unknown>>();

/**
 * Lets the pipe skip class-transformer and class-validator for a body that `check` finds valid: on the publish routes
 * their metadata walk, copies and GC were a fifth of the API's time. `check` must never accept what the DTO's
 * decorators refuse; it may give up on anything unusual (an unknown field, a null, a bad value), and then the pipe
 * validates as usual and names what is wrong. Each check is tested against the decorators (see publish-check.spec).
 */
export function checkPlainly<T>(dto: new () => T, check: PlainCheck<T>): void {
  PLAIN_CHECKS.set(dto, check);
}

/**
 * A deep copy of parsed JSON, made without recursion (bodies may nest deeper than the stack) and with
 * every key defined as an own property, `__proto__` included.
 */
export function copyParsedJson<T>(value: T): T {
  const copyOf = (v: unknown): unknown => (v === null || typeof v !== 'object' ? v : Array.isArray(v) ? new Array(v.length) : {});
  const root = copyOf(value);
  const stack: [unknown, unknown][] = [[value, root]];
  while (stack.length) {
    const [from, to] = stack.pop()!;
    if (from === null || typeof from !== 'object') continue;
    for (const key of Object.keys(from)) {
      const child = (from as Record<string, unknown>)[key];
      const copy = copyOf(child);
      Object.defineProperty(to, key, { value: copy, enumerable: true, writable: true, configurable: true });
      if (copy !== child) stack.push([child, copy]);
    }
  }
  return root as T;
}

/** Every DTO is validated; unknown fields are refused, and each bad field is named in `details`. */
class HeraldValidationPipe extends ValidationPipe {
  constructor(
    options: ValidationPipeOptions,
    private readonly plainChecks: boolean,
  ) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body' || value === null || typeof value !== 'object' || Array.isArray(value)) return super.transform(value, metadata);
    // Nest would delete these silently; they are no field of any request, so they are refused like any unknown field.
    for (const key of PROTOTYPE_KEYS) {
      if (Object.prototype.hasOwnProperty.call(value, key)) throw InvalidInputError.field(key, `property ${key} should not exist`);
    }
    const plain = this.plainChecks ? PLAIN_CHECKS.get(metadata.metatype)?.(value as Record<string, unknown>) : undefined;
    if (plain !== undefined) return plain;
    const pristine = copyParsedJson(value);
    const entity = await super.transform(value, metadata);
    restoreAsParsed(entity, pristine);
    return entity;
  }
}

/** `plainChecks: false` validates every body through the decorators (the plain checks' tests compare with it). */
export function validationPipe({ plainChecks = true } = {}): ValidationPipe {
  return new HeraldValidationPipe(
    {
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => new InvalidInputError(flatten(errors)),
    },
    plainChecks,
  );
}
