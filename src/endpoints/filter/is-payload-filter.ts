import { ValidationArguments, registerDecorator } from 'class-validator';
import { compileFilter } from './payload-filter';

/** A payload filter that compiles (null clears it); the message names the bad operator and its path. */
export function IsPayloadFilter() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isPayloadFilter',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => value === null || compileFilter(value, propertyName).ok,
        defaultMessage: (args: ValidationArguments) => {
          const result = compileFilter(args.value, args.property);
          return result.ok ? `${args.property} is invalid` : `${result.path}: ${result.message}`;
        },
      },
    });
}
