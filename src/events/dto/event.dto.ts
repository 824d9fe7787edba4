import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { CHANNEL_PATTERN } from '../../endpoints/subscription';
import { AsParsed } from '../../common/validation';
import { PageQuery } from '../../common/pagination';
import { EVENT_TYPE_PATTERN } from '../../endpoints/event-type-filter';

/** An ordering key: 1-256 characters, none of them a control character. */
// eslint-disable-next-line no-control-regex
export const ORDERING_KEY_PATTERN = /^[^\u0000-\u001f\u007f]{1,256}$/;

/** The most events one batch request may carry. */
export const MAX_BATCH_EVENTS = 500;

export class PublishEventDto {
  @ApiProperty({ example: 'invoice.paid', pattern: EVENT_TYPE_PATTERN.source })
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'any JSON object; sent to receivers byte for byte as serialised at publish time' })
  @AsParsed()
  @IsObject({ message: 'payload must be a JSON object' })
  payload: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: 256, description: 'the same key from the same tenant within 24 h answers the first event again and creates no deliveries; the Idempotency-Key header does the same' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  idempotencyKey?: string;

  @ApiPropertyOptional({
    maxLength: 256,
    example: 'customer_42',
    description:
      'endpoints with ordering "key" receive the events of one key one at a time, in publish order; other endpoints ignore it. 1-256 characters, no control characters',
  })
  @IsOptional()
  // One message for any bad value (a non-string fails the pattern too).
  @Matches(ORDERING_KEY_PATTERN, { message: 'orderingKey must be 1-256 characters without control characters' })
  orderingKey?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 10, description: 'only endpoints with a channel in common get the event; endpoints without channels get every event' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(CHANNEL_PATTERN, { each: true, message: 'channels entries must be 1-128 characters of A-Z a-z 0-9 _ . : # -' })
  channels?: string[];
}

export class PublishBatchDto {
  @ApiProperty({ type: [PublishEventDto], maxItems: MAX_BATCH_EVENTS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_EVENTS)
  @ValidateNested({ each: true })
  @Type(() => PublishEventDto)
  events: PublishEventDto[];
}

export class PublishedEventView {
  @ApiProperty() id: string;
  @ApiProperty() eventType: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ description: 'deliveries created: one per enabled endpoint whose eventTypes match' }) deliveryCount: number;
}

export class PublishedBatchView {
  @ApiProperty({ type: [PublishedEventView] }) data: PublishedEventView[];
}

export class EventView {
  @ApiProperty() id: string;
  @ApiProperty() eventType: string;
  @ApiProperty({ nullable: true, type: String }) idempotencyKey: string | null;
  @ApiProperty({ nullable: true, type: [String] }) channels: string[] | null;
  @ApiProperty() createdAt: string;
}

export class EventWithPayloadView extends EventView {
  @ApiProperty({ type: 'object', additionalProperties: true }) payload: Record<string, unknown>;
}

export class EventQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(EVENT_TYPE_PATTERN, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType?: string;

  @ApiPropertyOptional({ description: 'ISO-8601; events created at or after' })
  @IsOptional()
  @IsString()
  since?: string;

  @ApiPropertyOptional({ description: 'ISO-8601; events created before' })
  @IsOptional()
  @IsString()
  until?: string;
}
