import { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
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
  constructor(private readonly type: new () => T) {}

  async transform(value: unknown): Promise<T> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SvixValidationError([{ loc: ['body'], msg: 'the body must be a JSON object', type: 'type_error.dict' }]);
    }
    const instance = plainToInstance(this.type, value);
    const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: false, stopAtFirstError: false });
    if (errors.length) throw new SvixValidationError(items(errors, ['body']));
    return instance;
  }
}
