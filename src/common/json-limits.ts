import { ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';

/** A plain JSON object (not an array, not null) whose serialisation stays under maxBytes. */
export function IsJsonObject(maxBytes = 16384, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isJsonObject',
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          return Buffer.byteLength(JSON.stringify(value)) <= maxBytes;
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be a JSON object of at most ${maxBytes} bytes`;
        },
      },
    });
}

/** An object whose values are all strings: HTTP header maps. */
export function IsStringMap(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          return Object.values(value as object).every((v) => typeof v === 'string');
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be an object of string values`;
        },
      },
    });
}
