import { ValidationError, ValidationPipe } from '@nestjs/common';
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

/** Every DTO is validated; unknown fields are refused, and each bad field is named in `details`. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new InvalidInputError(flatten(errors)),
  });
}
