import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsNotEmptyObject, IsObject, IsOptional, IsString, Length, Matches, ValidateNested, ValidationArguments, registerDecorator } from 'class-validator';
import { EVENT_TYPE_PATTERN } from '../../endpoints/event-type-filter';
import { decodeBase64 } from '../verifiers/signature';
import { VerifierType } from '../verifiers';

export const VERIFIER_TYPES: readonly VerifierType[] = ['standard-webhooks', 'stripe', 'github', 'shopify', 'slack', 'hmac', 'basic', 'api-key', 'none'];
const SECRET_TYPES: readonly VerifierType[] = ['standard-webhooks', 'stripe', 'github', 'shopify', 'slack', 'hmac'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

type Check = (value: unknown, verifier: Record<string, unknown>) => string | null;

const text =
  (min: number, max: number): Check =>
  (value) =>
    typeof value === 'string' && value.length >= min && value.length <= max ? null : `must be a string of ${min} to ${max} characters`;
const oneOf =
  (options: readonly string[]): Check =>
  (value) =>
    typeof value === 'string' && options.includes(value) ? null : `must be one of ${options.join(', ')}`;
const headerName: Check = (value) => (typeof value === 'string' && HEADER_NAME.test(value) ? null : 'must be an HTTP header name');

const secret: Check = (value, verifier) => {
  const problem = text(1, 1024)(value, verifier);
  if (problem || verifier.type !== 'standard-webhooks') return problem;
  // Standard Webhooks secrets are `whsec_` + base64 of the key; catch a wrong paste now rather than on every request.
  const encoded = (value as string).startsWith('whsec_') ? (value as string).slice(6) : (value as string);
  return decodeBase64(encoded) ? null : 'must be whsec_ followed by base64 (the Standard Webhooks secret format)';
};

/**
 * A field that belongs to some verifier types: checked (and required unless `optional`) for those types,
 * refused for the others, so a misplaced credential is never stored unseen. Unknown types are left to `type`'s own check.
 */
function VerifierField(types: readonly VerifierType[], check: Check, optional = false) {
  const problem = (value: unknown, verifier: Record<string, unknown>): string | null => {
    if (!VERIFIER_TYPES.includes(verifier.type as VerifierType)) return null;
    if (!types.includes(verifier.type as VerifierType)) return value === undefined ? null : `is not used by verifier type ${String(verifier.type)}`;
    if (value === undefined) return optional ? null : `is required for verifier type ${String(verifier.type)}`;
    return check(value, verifier);
  };
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'verifierField',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown, args: ValidationArguments) => problem(value, args.object as Record<string, unknown>) === null,
        defaultMessage: (args: ValidationArguments) => `${args.property} ${problem(args.value, args.object as Record<string, unknown>)}`,
      },
    });
}

/** How requests to the source are authenticated. Secrets and credentials are write-only: sealed at rest, never returned. */
export class VerifierDto {
  @ApiProperty({ enum: VERIFIER_TYPES, description: 'standard-webhooks also accepts the svix-* header variant' })
  @IsIn(VERIFIER_TYPES as VerifierType[], { message: `type must be one of ${VERIFIER_TYPES.join(', ')}` })
  type: VerifierType;

  @ApiPropertyOptional({ writeOnly: true, description: 'standard-webhooks, stripe, github, shopify, slack, hmac: the signing secret the provider shows (Stripe and Standard Webhooks: whsec_…)' })
  @VerifierField(SECRET_TYPES, secret)
  secret?: string;

  @ApiPropertyOptional({ description: 'hmac: the header carrying the signature; api-key: the header carrying the key' })
  @VerifierField(['hmac', 'api-key'], headerName)
  header?: string;

  @ApiPropertyOptional({ enum: ['sha1', 'sha256', 'sha512'], description: 'hmac only' })
  @VerifierField(['hmac'], oneOf(['sha1', 'sha256', 'sha512']))
  algorithm?: 'sha1' | 'sha256' | 'sha512';

  @ApiPropertyOptional({ enum: ['hex', 'base64'], description: 'hmac only' })
  @VerifierField(['hmac'], oneOf(['hex', 'base64']))
  encoding?: 'hex' | 'base64';

  @ApiPropertyOptional({ description: 'hmac only: text before the signature in the header, e.g. `sha256=`' })
  @VerifierField(['hmac'], text(0, 64), true)
  prefix?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'basic only' })
  @VerifierField(['basic'], (value) => (typeof value === 'string' && /^[^:]{1,256}$/.test(value) ? null : 'must be 1 to 256 characters without ":"'))
  username?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'basic only' })
  @VerifierField(['basic'], text(1, 1024))
  password?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'api-key only: the expected header value' })
  @VerifierField(['api-key'], text(1, 1024))
  value?: string;
}

const EVENT_TYPE_MESSAGE = 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$';

export class CreateSourceDto {
  @ApiProperty({ maxLength: 128, example: 'stripe' })
  @IsString()
  @Length(1, 128)
  name: string;

  @ApiProperty({ type: VerifierDto })
  @IsDefined({ message: 'verifier is required' })
  @IsObject({ message: 'verifier must be an object' })
  @ValidateNested()
  @Type(() => VerifierDto)
  verifier: VerifierDto;

  @ApiPropertyOptional({ pattern: EVENT_TYPE_PATTERN.source, description: 'the event type when the provider names none; default `<name>.received`' })
  @IsOptional()
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: EVENT_TYPE_MESSAGE })
  eventType?: string;
}

export class UpdateSourceDto {
  @ApiPropertyOptional({ maxLength: 128 })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  name?: string;

  @ApiPropertyOptional({ type: VerifierDto, description: 'replaces the whole verifier, secret included' })
  @IsOptional()
  @IsObject({ message: 'verifier must be an object' })
  @IsNotEmptyObject({}, { message: 'verifier must not be empty' })
  @ValidateNested()
  @Type(() => VerifierDto)
  verifier?: VerifierDto;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null goes back to `<name>.received`' })
  @IsOptional()
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: EVENT_TYPE_MESSAGE })
  eventType?: string | null;
}

export class VerifierView {
  @ApiProperty({ enum: VERIFIER_TYPES }) type: VerifierType;
  @ApiPropertyOptional() header?: string;
  @ApiPropertyOptional() algorithm?: string;
  @ApiPropertyOptional() encoding?: string;
  @ApiPropertyOptional() prefix?: string;
}

export class SourceView {
  @ApiProperty() id: string;
  @ApiProperty() tenantId: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: VerifierView, description: 'the type and non-secret settings; secrets and credentials are never returned' }) verifier: VerifierView;
  @ApiProperty({ nullable: true, type: String }) eventType: string | null;
  @ApiProperty({ description: 'where the provider must send its webhooks' }) ingestUrl: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class SourceRequestView {
  @ApiProperty() id: string;
  @ApiProperty() receivedAt: string;
  @ApiProperty() accepted: boolean;
  @ApiProperty({ description: 'the status Herald answered' }) statusCode: number;
  @ApiProperty({ nullable: true, type: String, description: 'why it was rejected' }) reason: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'the event it was stored as (the first one, for a duplicate)' }) eventId: string | null;
  @ApiProperty({ nullable: true, type: String }) eventType: string | null;
  @ApiProperty({ nullable: true, type: String, description: "the provider's own event id (Stripe id, X-GitHub-Delivery, webhook-id)" }) providerEventId: string | null;
  @ApiProperty({ description: 'the provider sent this event before; nothing new was delivered' }) duplicate: boolean;
  @ApiProperty({ nullable: true, type: String }) contentType: string | null;
  @ApiProperty() bodyBytes: number;
}

export class InboundAcceptedView {
  @ApiProperty() eventId: string;
  @ApiProperty({ description: 'the provider had sent this event already; it is not delivered again' }) duplicate: boolean;
}
