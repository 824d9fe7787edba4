import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CAPABILITIES, Capability } from '../../access/capabilities';
import { PORTAL_LIFETIME } from '../portal-token';

export class CreatePortalSessionDto {
  @ApiPropertyOptional({
    enum: CAPABILITIES,
    isArray: true,
    default: ['read'],
    description: 'read: every read route; manage-endpoints: create, edit, delete endpoints, send test events; view-secrets: reveal signing secrets; rotate-secrets; resend: resend, recover and bulk resend',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(CAPABILITIES, { each: true, message: `capabilities must each be one of ${CAPABILITIES.join(', ')}` })
  capabilities?: Capability[];

  @ApiPropertyOptional({ type: [String], description: 'limit the link to these endpoints of the tenant (every other endpoint, and its deliveries and events, answer 404); all when absent' })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(100)
  @Matches(/^ep_[0-9A-Z]{26}$/, { each: true, message: 'endpointIds must each be an endpoint id (ep_…)' })
  endpointIds?: string[];

  @ApiPropertyOptional({ minimum: PORTAL_LIFETIME.min, maximum: PORTAL_LIFETIME.max, default: PORTAL_LIFETIME.default, description: 'lifetime of the link, 5 minutes to 7 days' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(PORTAL_LIFETIME.min)
  @Max(PORTAL_LIFETIME.max)
  expiresInSeconds?: number;
}

export class PortalSessionView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: CAPABILITIES, isArray: true }) capabilities: Capability[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every endpoint of the tenant' }) endpointIds: string[] | null;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ description: 'neither expired nor revoked' }) active: boolean;
  @ApiProperty() createdAt: string;
}

export class CreatedPortalSessionView extends PortalSessionView {
  @ApiProperty({ description: 'the console link; the token travels in the URL fragment, which browsers never send to a server' }) url: string;
  @ApiProperty({ description: 'the bearer token (hpt_…); shown once, stored hashed' }) token: string;
}

export class PrincipalView {
  @ApiProperty({ enum: ['admin', 'tenant', 'portal'] }) kind: 'admin' | 'tenant' | 'portal';
  @ApiProperty({ nullable: true, type: String, description: 'the tenant a tenant key or portal link belongs to; null for the admin key' }) tenantId: string | null;
  @ApiProperty({ enum: CAPABILITIES, isArray: true, description: 'what this key may do (admin and tenant keys: everything)' }) capabilities: Capability[];
  @ApiProperty({ type: [String], nullable: true, description: 'a portal link limited to some endpoints; else null' }) endpointIds: string[] | null;
  @ApiProperty({ nullable: true, type: String, description: 'when a portal link stops working' }) expiresAt: string | null;
}
