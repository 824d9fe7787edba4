import { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
import { copyParsedJson } from '../common/validation';
import { SvixValidationError, SvixValidationItem } from './svix-errors';

function items(errors: ValidationError[], path: string[]): SvixValidationItem[] {
  return errors.flatMap((error) => {
    const loc = [...path, error.property];
    const own = Object.entries(error.constraints ?? {}).map(([type, msg]) => ({ loc, msg, type: `value_error.${type}` }));
    return [...own, ...items(error.children ?? [], loc)];
  });
}

/**
 * Validates a body against a Svix input class the way Svix's server does: fields it does not know are
 * ignored (newer SDKs send more), bad ones answer 422 with `loc: ["body", …]`. Handler parameters are typed
 * so that Herald's global pipe (which refuses unknown fields) leaves these bodies alone.
 */
export class SvixBody<T extends object> implements PipeTransform<unknown, Promise<T>> {
  /** `asParsed`: free-form fields (a payload, metadata, headers, schemas) that reach the service exactly as parsed. */
  constructor(
    private readonly type: new () => T,
    private readonly asParsed: (keyof T & string)[] = [],
  ) {}

  async transform(value: unknown): Promise<T> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SvixValidationError([{ loc: ['body'], msg: 'the body must be a JSON object', type: 'type_error.dict' }]);
    }
    // class-transformer drops keys named like Object.prototype's members (valueOf, __proto__): a payload is relayed byte for byte.
    const pristine = copyParsedJson(value) as Record<string, unknown>;
    const instance = plainToInstance(this.type, value);
    const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: false, stopAtFirstError: false });
    if (errors.length) throw new SvixValidationError(items(errors, ['body']));
    for (const field of this.asParsed) {
      if (Object.prototype.hasOwnProperty.call(pristine, field)) (instance as Record<string, unknown>)[field] = pristine[field];
    }
    return instance;
  }
}
