import { ApiProperty } from '@nestjs/swagger';

export class DeliveryCountsView {
  @ApiProperty({ description: 'queued, retrying, or waiting (rate limit, circuit, disabled endpoint)' }) pending: number;
  @ApiProperty() succeeded: number;
  @ApiProperty({ description: 'the dead-letter queue' }) dead: number;
  @ApiProperty({ description: 'pending deliveries whose next attempt is scheduled in the future (retries and rate-limit waits)' }) scheduled: number;
}

export class AttemptWindowView {
  @ApiProperty() attempts: number;
  @ApiProperty({ description: 'attempts answered 2xx' }) succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty({ nullable: true, type: Number, description: 'succeeded / attempts, 0..1; null without attempts' }) successRate: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'median attempt duration' }) p50LatencyMs: number | null;
  @ApiProperty({ nullable: true, type: Number }) p99LatencyMs: number | null;
}

export class CircuitView {
  @ApiProperty({ enum: ['closed', 'open', 'half-open'], description: 'open: new attempts wait for the cool-down; half-open: one probe attempt decides' })
  state: 'closed' | 'open' | 'half-open';
  @ApiProperty({ nullable: true, type: String, description: 'end of the cool-down (open) or of the probe in flight (half-open)' }) until: string | null;
  @ApiProperty() consecutiveFailures: number;
  @ApiProperty({ nullable: true, type: String, description: 'start of the current run of failures; the endpoint is disabled when it lasts long enough' })
  failingSince: string | null;
}

export class RateLimitStatsView {
  @ApiProperty({ nullable: true, type: Number }) rateLimitPerSecond: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'how far ahead send slots are reserved: the wait a new delivery would get now; null when unlimited or unknown' })
  backlogMs: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxInFlight: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'requests in flight now; null when uncapped or unknown' }) inFlight: number | null;
}

export class EndpointStatsView {
  @ApiProperty() endpointId: string;
  @ApiProperty({ type: DeliveryCountsView }) deliveries: DeliveryCountsView;
  @ApiProperty({ type: AttemptWindowView }) lastHour: AttemptWindowView;
  @ApiProperty({ type: AttemptWindowView }) lastDay: AttemptWindowView;
  @ApiProperty({ type: CircuitView }) circuit: CircuitView;
  @ApiProperty({ type: RateLimitStatsView }) rateLimit: RateLimitStatsView;
}
