import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { IsJsonObject, IsStringMap } from '../../common/json-limits';
import { AsParsed } from '../../common/validation';
import { validateEndpointUrl } from '../../deliveries/address-guard';
import { secretProblem } from '../../deliveries/signature';
import { EVENT_TYPE_FILTER_PATTERN } from '../event-type-filter';

function IsEndpointUrl() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isEndpointUrl',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && validateEndpointUrl(value) === null,
        defaultMessage: (args: ValidationArguments) =>
          typeof args.value === 'string' ? `${args.property}: ${validateEndpointUrl(args.value)}` : `${args.property} must be a string`,
      },
    });
}

function IsWebhookSecret() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isWebhookSecret',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && secretProblem(value) === null,
        defaultMessage: (args: ValidationArguments) => (typeof args.value === 'string' ? `${args.property}: ${secretProblem(args.value)}` : `${args.property} must be a string`),
      },
    });
}

// Headers Herald sets itself or that would break the request.
const RESERVED_HEADERS = /^(webhook-.*|content-type|content-length|host|connection|transfer-encoding|keep-alive|upgrade|te|trailer|user-agent)$/i;

function IsExtraHeaders() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isExtraHeaders',
      target: target.constructor,
      propertyName,
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          const entries = Object.entries(value as Record<string, unknown>);
          return (
            entries.length <= 50 &&
            entries.every(([name, v]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/.test(name) && !RESERVED_HEADERS.test(name) && typeof v === 'string' && v.length <= 4096 && !/[\r\n\0]/.test(v))
          );
        },
        defaultMessage: (args: ValidationArguments) =>
          `${args.property} must map valid header names (not webhook-*, content-type, host, user-agent or hop-by-hop headers) to single-line strings`,
      },
    });
}

export class RetryPolicyDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 8 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxAttempts?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 86_400_000, default: 5000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  initialDelayMs?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 604_800_000, default: 36_000_000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604_800_000)
  maxDelayMs?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 5 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(100)
  multiplier?: number;
}

/** Fields shared by create and update; every one optional here. */
class EndpointFields {
  @ApiPropertyOptional({ default: '', maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiPropertyOptional({ type: [String], default: [], description: 'event types to receive; empty means all; a trailing `.*` matches a prefix (`invoice.*`)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  @Matches(EVENT_TYPE_FILTER_PATTERN, { each: true, message: 'eventTypes entries must be event types (A-Z a-z 0-9 _ . : -, up to 128) optionally ending in .*' })
  eventTypes?: string[];

  @ApiPropertyOptional({ default: false, description: 'a disabled endpoint gets no new deliveries; its pending ones wait' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, description: 'at most this many requests per second' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(100_000)
  rateLimitPerSecond?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, description: 'at most this many concurrent requests' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxInFlight?: number | null;

  @ApiPropertyOptional({ minimum: 100, maximum: 60000, default: 15000, description: 'deadline of a whole attempt' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60000)
  timeoutMs?: number;

  @ApiPropertyOptional({ type: RetryPolicyDto, description: 'fields left out keep their defaults (8 attempts, 5 s ×5 up to 10 h)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retryPolicy?: RetryPolicyDto;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, default: {} })
  @IsOptional()
  @AsParsed()
  @IsStringMap()
  @IsExtraHeaders()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {} })
  @IsOptional()
  @AsParsed()
  @IsJsonObject()
  metadata?: Record<string, unknown>;
}

export class CreateEndpointDto extends EndpointFields {
  @ApiProperty({ example: 'https://example.com/webhooks', description: 'http or https, no credentials, at most 2048 characters' })
  @IsEndpointUrl()
  url: string;

  @ApiPropertyOptional({ description: 'whsec_ + base64 of 24-64 random bytes; generated when left out' })
  @IsOptional()
  @IsWebhookSecret()
  secret?: string;
}

export class UpdateEndpointDto extends EndpointFields {
  @ApiPropertyOptional()
  @IsOptional()
  @IsEndpointUrl()
  url?: string;
}

export class RetryPolicyView {
  @ApiProperty() maxAttempts: number;
  @ApiProperty() initialDelayMs: number;
  @ApiProperty() maxDelayMs: number;
  @ApiProperty() multiplier: number;
}

export class EndpointView {
  @ApiProperty() id: string;
  @ApiProperty() tenantId: string;
  @ApiProperty() url: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) eventTypes: string[];
  @ApiProperty() disabled: boolean;
  @ApiProperty({ nullable: true, enum: ['manual', 'gone', 'failing'] }) disabledReason: string | null;
  @ApiProperty({ nullable: true, type: Number }) rateLimitPerSecond: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxInFlight: number | null;
  @ApiProperty() timeoutMs: number;
  @ApiProperty({ type: RetryPolicyView }) retryPolicy: RetryPolicyView;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class EndpointWithSecretView extends EndpointView {
  @ApiProperty({ description: 'shown on creation; later with GET …/secret' }) secret: string;
}

export class RecoverDto {
  @ApiProperty({ description: 'ISO-8601 time: resend failed or dead deliveries created since then' })
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T/, { message: 'since must be an ISO-8601 date-time' })
  since: string;

  @ApiPropertyOptional({ description: 'ISO-8601 time; defaults to now' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T/, { message: 'until must be an ISO-8601 date-time' })
  until?: string;
}
