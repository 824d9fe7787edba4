import { Inject, Injectable } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { DomainError, FieldProblem } from '../common/errors';
import { EventType } from './event-type.entity';
import { EventTypesService } from './event-types.service';
import { CompiledSchema, compileSchema } from './json-schema';

/** A payload that does not follow its event type's schema: 422, every problem with its JSON pointer. */
export class PayloadSchemaError extends DomainError {
  readonly status = 422;
  readonly title = 'Unprocessable Entity';
  constructor(eventType: string, details: FieldProblem[]) {
    super(`the payload does not follow the schema of event type "${eventType}"`);
    this.details = details;
  }
}

/** Whether a payload of this type is checked: HERALD_VALIDATE_EVENTS for all, or the type's own flag. Pure. */
export function mustValidate(type: Pick<EventType, 'schema' | 'validate'> | null, validateAll: boolean): boolean {
  return !!type?.schema && (validateAll || type.validate);
}

/**
 * Checks payloads against the catalog before they are published. Validators are compiled once per
 * (type, schema version) and kept; a type without a schema, or not checked, costs one cache lookup.
 */
@Injectable()
export class EventPayloadValidator {
  private readonly compiled = new Map<string, CompiledSchema>();

  constructor(
    private readonly types: EventTypesService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** Throws PayloadSchemaError naming `field` (e.g. "payload", "events.3.payload") when the payload fails. */
  async check(eventType: string, payload: unknown, field = 'payload'): Promise<void> {
    const type = await this.types.cached(eventType);
    if (!type || !mustValidate(type, this.config.validateEvents)) return;
    const problems = this.validatorOf(type)(payload);
    if (problems.length === 0) return;
    throw new PayloadSchemaError(
      eventType,
      problems.map((p) => ({ field, pointer: p.pointer, message: `${field}${p.pointer === '/' ? '' : p.pointer} ${p.message}` })),
    );
  }

  private validatorOf(type: EventType): CompiledSchema {
    const key = `${type.name}@${type.schemaVersion}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      if (this.compiled.size > 5000) this.compiled.clear();
      validate = compileSchema(type.schema!);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
