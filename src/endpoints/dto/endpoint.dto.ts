import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
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
import { ENDPOINT_ORDERINGS, EndpointOrdering, SignatureHeaders } from '../endpoint.entity';
import { AsParsed } from '../../common/validation';
import { validateEndpointUrl } from '../../common/address-guard';
import { SIGNING_SCHEMES, SigningScheme, secretProblem } from '../../common/webhook-signature';
import { EVENT_TYPE_FILTER_PATTERN, EVENT_TYPE_PATTERN } from '../event-type-filter';
import { IsPayloadFilter } from '../filter/is-payload-filter';
import { compileTransformation } from '../../transformations/transformation';
import { endpointHeadersProblem } from '../endpoint-headers';
import { CHANNEL_PATTERN } from '../subscription';

export const ENDPOINT_UID_PATTERN = /^(?!ep_)[A-Za-z0-9_.:@-]{1,256}$/;

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

function IsTransformation() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTransformation',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => value === null || (typeof value === 'string' && compileTransformation(value).ok),
        defaultMessage: (args: ValidationArguments) => {
          if (typeof args.value !== 'string') return `${args.property} must be a JSONata expression (a string) or null`;
          const compiled = compileTransformation(args.value);
          return `${args.property}: ${compiled.ok ? 'invalid' : compiled.error}`;
        },
      },
    });
}

/** Extra headers that every delivery can carry: see endpointHeadersProblem for what is refused and why. */
export function IsExtraHeaders() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isExtraHeaders',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => endpointHeadersProblem(value) === null,
        defaultMessage: (args: ValidationArguments) => `${args.property}: ${endpointHeadersProblem(args.value) ?? 'invalid'}`,
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

  @ApiPropertyOptional({ nullable: true, type: String, description: "the producer's own id for the endpoint, unique in its tenant; usable in paths instead of the id" })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(ENDPOINT_UID_PATTERN, { message: 'uid must be 1-256 characters of A-Z a-z 0-9 _ . : @ - and must not start with ep_' })
  uid?: string | null;

  @ApiPropertyOptional({ type: [String], default: [], maxItems: 10, description: 'empty: every event; otherwise only events with a channel in common (events without channels are not sent here)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(CHANNEL_PATTERN, { each: true, message: 'channels entries must be 1-128 characters of A-Z a-z 0-9 _ . : # -' })
  channels?: string[];

  @ApiPropertyOptional({ enum: ['webhook', 'svix'], default: 'webhook', description: 'names of the id, timestamp and signature headers: webhook-* (Standard Webhooks) or svix-* (receivers written against Svix)' })
  @IsOptional()
  @IsIn(['webhook', 'svix'])
  signatureHeaders?: SignatureHeaders;

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

  @ApiPropertyOptional({
    enum: ENDPOINT_ORDERINGS,
    default: 'none',
    description:
      'key: the events published with the same orderingKey are delivered to this endpoint one at a time, in publish order (the next is not attempted until the previous succeeded or went dead); different keys flow in parallel; events without a key are unordered. none: no ordering',
  })
  @IsOptional()
  @IsIn(ENDPOINT_ORDERINGS)
  ordering?: EndpointOrdering;

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

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    default: null,
    example: { data: { amount: { $gte: 1000 } }, $eventType: { $startsWith: 'invoice.' } },
    description:
      'payload filter: the event fans out here only when it holds. Paths nest (or use dots); a literal means $eq; operators $eq $neq $gt $gte $lt $lte $in $nin $exists $startsWith $and $or $not; `$eventType` tests the event type. At most 8 KiB, 8 levels, 256 clauses; null removes it',
  })
  @IsOptional()
  @AsParsed()
  @IsPayloadFilter()
  filter?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    default: null,
    example: '{"type": eventType, "amount": payload.data.amount / 100}',
    description:
      'JSONata expression over {eventType, payload}: its result is the JSON body this endpoint receives (and what is signed). Evaluated at send time with a 50 ms limit and a 1 MiB output limit; a failure fails the attempt with error `transformation_failed: …`. At most 8192 characters; null removes it',
  })
  @IsOptional()
  @IsTransformation()
  transformation?: string | null;

  @ApiPropertyOptional({
    enum: SIGNING_SCHEMES,
    default: 'hmac',
    description:
      'hmac: a shared whsec_ secret, `v1,` signatures. ed25519: Herald signs with a private key it keeps and shows the public key (whpk_…) as the secret, `v1a,` signatures. Changing it on an existing endpoint is a rotation: the old secret keeps signing beside the new one for 24 h',
  })
  @IsOptional()
  @IsIn(SIGNING_SCHEMES)
  signing?: SigningScheme;
  @ApiPropertyOptional({ default: false, description: "deliveries carry a W3C traceparent header continuing the event's trace (when Herald traces)" })
  @IsOptional()
  @IsBoolean()
  sendTraceparent?: boolean;
}

export class CreateEndpointDto extends EndpointFields {
  @ApiProperty({ example: 'https://example.com/webhooks', description: 'http or https, no credentials, at most 2048 characters' })
  @IsEndpointUrl()
  url: string;

  @ApiPropertyOptional({ description: 'whsec_ + base64 of 24-64 random bytes; generated when left out (always generated for ed25519)' })
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
  @ApiProperty({ nullable: true, type: String }) uid: string | null;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) channels: string[];
  @ApiProperty({ enum: ['webhook', 'svix'] }) signatureHeaders: string;
  @ApiProperty({ type: [String] }) eventTypes: string[];
  @ApiProperty() disabled: boolean;
  @ApiProperty({ nullable: true, enum: ['manual', 'gone', 'failing'] }) disabledReason: string | null;
  @ApiProperty({ nullable: true, type: Number }) rateLimitPerSecond: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxInFlight: number | null;
  @ApiProperty({ enum: ENDPOINT_ORDERINGS }) ordering: EndpointOrdering;
  @ApiProperty() timeoutMs: number;
  @ApiProperty({ type: RetryPolicyView }) retryPolicy: RetryPolicyView;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) filter: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) transformation: string | null;
  @ApiProperty({ enum: SIGNING_SCHEMES }) signing: SigningScheme;
  @ApiProperty() sendTraceparent: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class EndpointWithSecretView extends EndpointView {
  @ApiProperty({ description: 'shown on creation; later with GET …/secret. For ed25519, the public key (whpk_…)' }) secret: string;
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

export class EventSampleDto {
  @ApiProperty({ example: 'invoice.paid' })
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { data: { amount: 1500 } } })
  @AsParsed()
  @IsJsonObject(262144)
  payload: Record<string, unknown>;
}

export class FilterTestView {
  @ApiProperty() matches: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'the clause that failed; null when the filter matches' }) reason: string | null;
}

export class TransformationTestDto extends EventSampleDto {
  @ApiPropertyOptional({ type: String, description: "an expression to try before saving it; the endpoint's own when left out" })
  @IsOptional()
  @IsTransformation()
  transformation?: string;
}

export class TransformationTestView {
  @ApiProperty({ description: 'whether the transformation produced a body' }) ok: boolean;
  @ApiPropertyOptional({ description: 'the body the endpoint would receive (the payload itself when it has no transformation)' }) result?: unknown;
  @ApiPropertyOptional({ description: 'why it failed: what an attempt would log after `transformation_failed: `' }) error?: string;
}

export class EndpointSecretView {
  @ApiProperty({ description: 'the current signing secret (whsec_…); for ed25519, the public key (whpk_…)' }) secret: string;
  @ApiProperty({ nullable: true, type: String, description: 'after a rotation: until when the previous secret still signs beside it (both signatures sent); else null' })
  previousSecretSignsUntil: string | null;
}
