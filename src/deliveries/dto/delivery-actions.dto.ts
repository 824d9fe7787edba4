import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { DeliveryQuery } from './delivery.dto';
import { IsIn, IsObject, IsOptional, Matches } from 'class-validator';

export const BULK_RESEND_MAX = 1000;

/** The window and filters of the deliveries list (the same rules), and which status to resend. */
export class BulkResendDto extends PickType(DeliveryQuery, ['endpointId', 'eventType', 'since', 'until'] as const) {
  @ApiProperty({ enum: ['dead', 'pending', 'succeeded'], description: 'which deliveries: `dead` is the dead-letter queue' })
  @IsIn(['dead', 'pending', 'succeeded'], { message: 'status must be one of dead, pending, succeeded' })
  status: 'dead' | 'pending' | 'succeeded';
}

export class BulkResendView {
  @ApiProperty({ description: `deliveries queued for a fresh attempt now (at most ${BULK_RESEND_MAX})` }) count: number;
  @ApiProperty({ description: 'more deliveries matched than one request resends: send it again for the next ones' }) more: boolean;
}

export class SendExampleDto {
  @ApiPropertyOptional({ default: 'herald.test', description: 'the event type of the test event' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' })
  eventType?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'the payload (a JSON object); a small example when absent' })
  @IsOptional()
  @IsObject({ message: 'payload must be a JSON object' })
  payload?: Record<string, unknown>;
}

export class SentExampleView {
  @ApiProperty({ description: 'the event id (webhook-id)' }) id: string;
  @ApiProperty() eventType: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ description: 'always 1: a test send goes to this endpoint only' }) deliveryCount: number;
  @ApiProperty() deliveryId: string;
}

export class AttemptRequestView {
  @ApiProperty() url: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: "the request headers of the attempt, rebuilt from the stored event: webhook-signature recomputed with the endpoint's secrets that signed at that time and still exist; the values of the endpoint's own headers are hidden, as they often carry credentials",
  })
  headers: Record<string, string>;
  @ApiProperty({ description: 'the body as sent: the payload bytes stored at publish time' }) body: string;
}
