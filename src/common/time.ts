import { InvalidInputError } from './errors';

/** An ISO-8601 query parameter, or undefined; a bad one is a 400 naming the field. */
export function parseTime(field: string, value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw InvalidInputError.field(field, `${field} must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z`);
  return new Date(ms);
}
