import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, Equals, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { EVENT_TYPE_FILTER_PATTERN } from '../../endpoints/event-type-filter';
import { ReplayStatus, ReplayedStatus } from '../replay.entity';

const ISO = /^\d{4}-\d{2}-\d{2}T/;
export const REPLAYED_STATUSES: ReplayedStatus[] = ['dead', 'failed', 'succeeded'];

export class CreateReplayDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'ISO-8601: deliveries (or, with missing, events) created since then' })
  @IsString()
  @Matches(ISO, { message: 'since must be an ISO-8601 date-time' })
  since: string;

  @ApiPropertyOptional({ description: 'ISO-8601, exclusive; defaults to the time of the request' })
  @IsOptional()
  @IsString()
  @Matches(ISO, { message: 'until must be an ISO-8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ description: "only this endpoint's deliveries; required with missing" })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  endpointId?: string;

  @ApiPropertyOptional({ type: [String], description: 'only these event types (a trailing .* matches a prefix); all when left out' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @Matches(EVENT_TYPE_FILTER_PATTERN, { each: true, message: 'eventTypes entries must be event types optionally ending in .*' })
  eventTypes?: string[];

  @ApiPropertyOptional({ type: [String], enum: REPLAYED_STATUSES, default: ['dead', 'failed'], description: 'which deliveries to resend: dead, failed (still retrying after a failure), succeeded' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(REPLAYED_STATUSES, { each: true })
  status?: ReplayedStatus[];

  @ApiPropertyOptional({
    description:
      'true: instead of resending, create deliveries for the events of the window that the endpoint (endpointId) subscribes to now but never got: published while it was disabled, before it existed, or while its filter excluded them',
  })
  @IsOptional()
  @IsBoolean()
  @Equals(true, { message: 'missing must be true when given' })
  missing?: true;
}

export class ReplayView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['running', 'done', 'cancelled', 'failed'] }) status: ReplayStatus;
  @ApiProperty({ description: 'candidates counted at creation; equals done once the replay is done' }) total: number;
  @ApiProperty({ description: 'candidates handled so far' }) done: number;
  @ApiProperty({ description: 'deliveries resent or created so far' }) queued: number;
  @ApiProperty() since: string;
  @ApiProperty() until: string;
  @ApiProperty({ nullable: true, type: String }) endpointId: string | null;
  @ApiProperty({ nullable: true, type: [String] }) eventTypes: string[] | null;
  @ApiProperty({ type: [String] }) statuses: ReplayedStatus[];
  @ApiProperty() missing: boolean;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
}
