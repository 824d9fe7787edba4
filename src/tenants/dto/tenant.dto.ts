import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsJsonObject } from '../../common/json-limits';
import { AsParsed } from '../../common/validation';
import { Tenant } from '../tenant.entity';

const UID_PATTERN = /^(?!tnt_)[A-Za-z0-9_.:@-]{1,256}$/;

export class CreateTenantDto {
  @ApiProperty({ example: 'Acme Inc.', maxLength: 256 })
  @IsString()
  @Length(1, 256)
  name: string;

  @ApiPropertyOptional({ description: "the producer's own id for the tenant; unique; usable in paths instead of the id", example: 'acme' })
  @IsOptional()
  @IsString()
  @Matches(UID_PATTERN, { message: 'uid must be 1-256 characters of A-Z a-z 0-9 _ . : @ - and must not start with tnt_' })
  uid?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {} })
  @IsOptional()
  @AsParsed()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, description: 'publishing above this rate answers 429 with Retry-After' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  publishRateLimitPerSecond?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, description: "the rateLimitPerSecond of this tenant's endpoints created without one (Svix's application throttleRate)" })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(100_000)
  endpointRateLimitPerSecond?: number | null;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(UID_PATTERN, { message: 'uid must be 1-256 characters of A-Z a-z 0-9 _ . : @ - and must not start with tnt_' })
  uid?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @AsParsed()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  publishRateLimitPerSecond?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(100_000)
  endpointRateLimitPerSecond?: number | null;
}

export class TenantView {
  @ApiProperty({ example: 'tnt_01JD8X3Q6Y4M2N7P9R1S5T8V0W' }) id: string;
  @ApiProperty({ nullable: true, type: String }) uid: string | null;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: Number }) publishRateLimitPerSecond: number | null;
  @ApiProperty({ nullable: true, type: Number }) endpointRateLimitPerSecond: number | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static of(t: Tenant): TenantView {
    return {
      id: t.id,
      uid: t.uid,
      name: t.name,
      metadata: t.metadata,
      publishRateLimitPerSecond: t.publishRateLimitPerSecond,
      endpointRateLimitPerSecond: t.endpointRateLimitPerSecond,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
