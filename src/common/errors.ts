/** Domain errors: services throw these; DomainErrorFilter alone maps them to HTTP. */
export interface FieldProblem {
  field: string;
  message: string;
  /** For a payload that fails its event type's schema: the JSON pointer of the bad value inside it. */
  pointer?: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  details?: FieldProblem[];
  headers?: Record<string, string>;
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly title = 'Not Found';
  constructor(kind: string, id?: string) {
    super(id ? `${kind} ${id} not found` : `${kind} not found`);
  }
}

export class InvalidInputError extends DomainError {
  readonly status = 400;
  readonly title = 'Bad Request';
  constructor(details: FieldProblem[]) {
    super(details.map((d) => `${d.field}: ${d.message}`).join('; '));
    this.details = details;
  }
  static field(field: string, message: string): InvalidInputError {
    return new InvalidInputError([{ field, message }]);
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly title = 'Conflict';
  constructor(message: string, field?: string) {
    super(message);
    if (field) this.details = [{ field, message }];
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly title = 'Payload Too Large';
}

/** A request that is well-formed but asks for more than a configured limit allows; retrying it as is cannot succeed. */
export class LimitExceededError extends DomainError {
  readonly status = 422;
  readonly title = 'Unprocessable Entity';
  constructor(field: string, message: string) {
    super(message);
    this.details = [{ field, message }];
  }
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly title = 'Too Many Requests';
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.headers = { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly title = 'Unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly title = 'Forbidden';
}

/** This process has more work waiting than it can take on soon: the request is shed, nothing was stored. */
export class OverloadedError extends DomainError {
  readonly status = 503;
  readonly title = 'Service Unavailable';
  constructor(message: string) {
    super(message);
    this.headers = { 'retry-after': '1' };
  }
}

/** A dependency (PostgreSQL) is unreachable: the request did not take effect. */
export class UnavailableError extends DomainError {
  readonly status = 503;
  readonly title = 'Service Unavailable';
  constructor(message = 'the service is temporarily unavailable; nothing was stored, retry later') {
    super(message);
    this.headers = { 'retry-after': '1' };
  }
}
