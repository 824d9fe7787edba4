import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { IsJsonObject } from '../../common/json-limits';
import { PageQuery } from '../../common/pagination';
import { EVENT_TYPE_PATTERN } from '../../endpoints/event-type-filter';
import { EventType } from '../event-type.entity';

const SCHEMA_BYTES = 256 * 1024;

/** Fields shared by create and update; every one optional here. */
class EventTypeFields {
  @ApiPropertyOptional({ default: '', maxLength: 4096 })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'JSON Schema, draft 2020-12 (or draft-07 when its $schema says so)' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsJsonObject(SCHEMA_BYTES)
  schema?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'an example payload; must validate against the schema' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsJsonObject(SCHEMA_BYTES)
  example?: Record<string, unknown> | null;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  deprecated?: boolean;

  @ApiPropertyOptional({ default: false, description: 'archived types stay usable (endpoints may still name them) but are hidden from lists by default' })
  @IsOptional()
  @IsBoolean()
  archived?: boolean;

  @ApiPropertyOptional({ default: false, description: 'check every published payload of this type against the schema (422 when it fails), even when HERALD_VALIDATE_EVENTS is off' })
  @IsOptional()
  @IsBoolean()
  validate?: boolean;
}

export class CreateEventTypeDto extends EventTypeFields {
  @ApiProperty({ example: 'invoice.paid', pattern: EVENT_TYPE_PATTERN.source })
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'name must match ^[A-Za-z0-9_.:-]{1,128}$' })
  name: string;
}

export class UpdateEventTypeDto extends EventTypeFields {}

export class EventTypeQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'include archived types' })
  @IsOptional()
  @IsIn(['true', 'false'])
  includeArchived?: 'true' | 'false';
}

export class EventTypeView {
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) schema: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) example: Record<string, unknown> | null;
  @ApiProperty() deprecated: boolean;
  @ApiProperty() archived: boolean;
  @ApiProperty() validate: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static of(t: EventType): EventTypeView {
    return {
      name: t.name,
      description: t.description,
      schema: t.schema,
      example: t.example,
      deprecated: t.deprecated,
      archived: t.archived,
      validate: t.validate,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
