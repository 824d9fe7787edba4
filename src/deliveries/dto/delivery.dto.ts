import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { PageQuery } from '../../common/pagination';

export class DeliveryQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['pending', 'succeeded', 'dead'], description: '`dead` is the dead-letter queue' })
  @IsOptional()
  @IsIn(['pending', 'succeeded', 'dead'])
  status?: 'pending' | 'succeeded' | 'dead';

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^ep_[0-9A-Z]{26}$/, { message: 'endpointId must be an endpoint id (ep_…)' })
  endpointId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^evt_[0-9A-Z]{26}$/, { message: 'eventId must be an event id (evt_…)' })
  eventId?: string;

  @ApiPropertyOptional({ description: 'exact event type' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType?: string;

  @ApiPropertyOptional({ description: 'ISO-8601; deliveries created at or after' })
  @IsOptional()
  @IsString()
  since?: string;

  @ApiPropertyOptional({ description: 'ISO-8601; deliveries created before' })
  @IsOptional()
  @IsString()
  until?: string;
}

export class DeliveryView {
  @ApiProperty() id: string;
  @ApiProperty() eventId: string;
  @ApiProperty() endpointId: string;
  @ApiProperty() eventType: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'dead'] }) status: string;
  @ApiProperty() attemptCount: number;
  @ApiProperty({ nullable: true, type: String, description: 'null when not scheduled (finished, waiting for a disabled endpoint, or waiting for its turn in an ordered line: see waitingFor)' }) nextAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ nullable: true, type: String, description: "the event's orderingKey, if it had one" }) orderingKey: string | null;
  @ApiProperty({ description: 'whether this delivery is in its ordering line (its endpoint orders by key and the event has a key); a finished delivery leaves it when resent or replayed' })
  ordered: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'ordered deliveries: the event published just before this one in its line (null for the first one)' })
  after: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'ordered deliveries still waiting for their turn: the event at the head of the line (being attempted or waiting for its retry); null once this one is the head or finished',
  })
  waitingFor: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class AttemptView {
  @ApiProperty() id: string;
  @ApiProperty() deliveryId: string;
  @ApiProperty() attemptNumber: number;
  @ApiProperty({ enum: ['initial', 'retry', 'manual'] }) trigger: string;
  @ApiProperty() startedAt: string;
  @ApiProperty() durationMs: number;
  @ApiProperty({ nullable: true, type: Number, description: 'null when no response arrived' }) statusCode: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'the first 4 KiB of the body: as text when it was valid UTF-8 without NUL, else base64 (see responseBodyEncoding)' })
  responseBody: string | null;
  @ApiProperty({ nullable: true, enum: ['utf8', 'base64'], description: 'how responseBody is kept: utf8 text, or base64 of the bytes (binary, gzip, NUL bytes, invalid UTF-8); null without a body' })
  responseBodyEncoding: 'utf8' | 'base64' | null;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: { type: 'string' }, description: 'response headers (at most 8 KiB of them)' })
  responseHeaders: Record<string, string> | null;
  @ApiProperty({ type: [String], description: 'names of responseHeaders whose values are base64 of their bytes (they held control characters)' })
  responseHeadersBase64: string[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null, or timeout, connection_refused, connection_reset, dns, tls, blocked_address, too_many_redirects, or a message',
  })
  error: string | null;
}

export class RecoverView {
  @ApiProperty({ description: 'deliveries queued for a fresh attempt' }) count: number;
}
