import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { IsJsonObject, IsStringMap } from '../../common/json-limits';
import { SVIX_PORTAL_CAPABILITIES } from '../svix-portal-access';
import { validateEndpointUrl } from '../../common/address-guard';
import { secretProblem } from '../../common/webhook-signature';
import { ENDPOINT_UID_PATTERN, IsExtraHeaders } from '../../endpoints/dto/endpoint.dto';
import { EVENT_TYPE_FILTER_PATTERN, EVENT_TYPE_PATTERN } from '../../endpoints/event-type-filter';
import { CHANNEL_PATTERN } from '../../endpoints/subscription';

// Svix's input shapes (its OpenAPI document), validated; fields Herald has no use for are accepted and ignored.

const APP_UID_PATTERN = /^(?!tnt_)[A-Za-z0-9_.:@-]{1,256}$/;

function Satisfies(problem: (value: unknown) => string | null) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'satisfies',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => problem(value) === null,
        defaultMessage: (args: ValidationArguments) => problem(args.value) ?? '',
      },
    });
}

const urlProblem = (v: unknown) => (typeof v === 'string' ? validateEndpointUrl(v) : 'url must be a string');
const secretCheck = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? secretProblem(v) : 'secret must be a string');

class RateFields {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  rateLimit?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  throttleRate?: number | null;
}

class ApplicationFieldsIn extends RateFields {
  @IsOptional()
  @Matches(APP_UID_PATTERN, { message: 'uid must be 1-256 characters of A-Z a-z 0-9 _ . : @ - and must not start with tnt_' })
  uid?: string | null;

  @IsOptional()
  @IsStringMap()
  @IsJsonObject()
  metadata?: Record<string, string>;
}

export class ApplicationPatchIn extends ApplicationFieldsIn {
  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;
}

export class ApplicationIn extends ApplicationFieldsIn {
  @IsString()
  @Length(1, 256)
  name: string;
}

class EndpointFieldsIn extends RateFields {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @IsOptional()
  @Matches(ENDPOINT_UID_PATTERN, { message: 'uid must be 1-256 characters of A-Z a-z 0-9 _ . : @ - and must not start with ep_' })
  uid?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @Matches(EVENT_TYPE_FILTER_PATTERN, { each: true, message: 'filterTypes entries must be event types' })
  filterTypes?: string[] | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(CHANNEL_PATTERN, { each: true, message: 'channels entries must be 1-128 characters of A-Z a-z 0-9 _ . : # -' })
  channels?: string[] | null;

  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @IsOptional()
  @IsStringMap()
  @IsJsonObject()
  metadata?: Record<string, string>;

  @IsOptional()
  @IsInt()
  version?: number | null;
}

export class EndpointPatchIn extends EndpointFieldsIn {
  @IsOptional()
  @Satisfies(urlProblem)
  url?: string;

  @IsOptional()
  @Satisfies(secretCheck)
  secret?: string | null;
}

/** PUT: the whole endpoint but its secret and headers. */
export class EndpointUpdateIn extends EndpointFieldsIn {
  @Satisfies(urlProblem)
  url: string;
}

export class EndpointIn extends EndpointUpdateIn {
  @IsOptional()
  @Satisfies(secretCheck)
  secret?: string | null;

  @IsOptional()
  @IsStringMap()
  @IsExtraHeaders()
  headers?: Record<string, string> | null;
}

export class EndpointHeadersIn {
  @IsStringMap()
  @IsExtraHeaders()
  headers: Record<string, string>;
}

export class EndpointHeadersPatchIn extends EndpointHeadersIn {
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  deleteHeaders?: string[];
}

export class EndpointSecretRotateIn {
  @IsOptional()
  @Satisfies(secretCheck)
  key?: string | null;
}

export class RecoverIn {
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T/, { message: 'since must be an ISO-8601 date-time' })
  since: string;

  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T/, { message: 'until must be an ISO-8601 date-time' })
  until?: string | null;
}

export class MessageIn {
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType: string;

  @IsObject({ message: 'payload must be a JSON object' })
  payload: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @Length(1, 256)
  eventId?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(CHANNEL_PATTERN, { each: true, message: 'channels entries must be 1-128 characters of A-Z a-z 0-9 _ . : # -' })
  channels?: string[] | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ApplicationIn)
  application?: ApplicationIn | null;
}

class EventTypeFieldsIn {
  /** Svix keeps schemas by version: `{"1": <JSON Schema>}`. */
  @IsOptional()
  @IsJsonObject(256 * 1024)
  schemas?: Record<string, Record<string, unknown>> | null;

  @IsOptional()
  @IsBoolean()
  archived?: boolean;

  @IsOptional()
  @IsBoolean()
  deprecated?: boolean;
}

export class EventTypePatchIn extends EventTypeFieldsIn {
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  description?: string;
}

export class EventTypeUpdateIn extends EventTypeFieldsIn {
  @IsString()
  @MaxLength(4096)
  description: string;
}

export class EventTypeIn extends EventTypeUpdateIn {
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'name must match ^[A-Za-z0-9_.:-]{1,128}$' })
  name: string;
}

export class AppPortalAccessIn {
  @IsOptional()
  @ValidateNested()
  @Type(() => ApplicationIn)
  application?: ApplicationIn | null;

  /** Seconds the token is valid; Herald caps it at 7 days and defaults to 1 hour. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  expiry?: number | null;

  /** Svix's app-portal capabilities (ViewBase, ViewEndpointSecret, ManageEndpointSecret, ManageTransformations, CreateAttempts, ManageEndpoint); all when absent. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsIn(Object.keys(SVIX_PORTAL_CAPABILITIES), { each: true, message: `capabilities must each be one of ${Object.keys(SVIX_PORTAL_CAPABILITIES).join(', ')}` })
  capabilities?: string[] | null;

  /** Svix's read-only portal: the link may read, and change nothing. */
  @IsOptional()
  @IsBoolean()
  readOnly?: boolean | null;
}

export class ExpireAllIn {
  /** Seconds until the links end; 0 (the default) ends them at once. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  expiry?: number | null;
}

export class EventExampleIn {
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType: string;

  @IsOptional()
  @IsInt()
  @Min(-1)
  exampleIndex?: number;
}
