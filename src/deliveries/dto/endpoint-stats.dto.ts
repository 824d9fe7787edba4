import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { MAX_BUCKETS } from '../stats-window';

export class DeliveryCountsView {
  @ApiProperty({ description: 'queued, retrying, or waiting (rate limit, circuit, disabled endpoint)' }) pending: number;
  @ApiProperty() succeeded: number;
  @ApiProperty({ description: 'the dead-letter queue' }) dead: number;
  @ApiProperty({ description: 'pending deliveries whose next attempt is scheduled in the future (retries and rate-limit waits)' }) scheduled: number;
  @ApiProperty({ description: 'pending deliveries of an ordered endpoint waiting for the one before them in their line (not scheduled yet)' }) waitingInLine: number;
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

export class StatsQuery {
  @ApiPropertyOptional({ example: '24h', description: 'answer a time series over this window: 1m..30d as <n>m, <n>h or <n>d; without it, only the summary' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,3}[mhd]$/, { message: 'window must be a duration like 30m, 1h or 7d' })
  window?: string;

  @ApiPropertyOptional({ example: '1h', description: `bucket width (default: about 24 buckets); window / step at most ${MAX_BUCKETS}` })
  @IsOptional()
  @Matches(/^[1-9]\d{0,3}[mhd]$/, { message: 'step must be a duration like 5m, 1h or 1d' })
  step?: string;
}

export class DeliveryOutcomesView {
  @ApiProperty() succeeded: number;
  @ApiProperty({ description: 'dead-lettered' }) dead: number;
  @ApiProperty({ description: 'still queued or retrying' }) pending: number;
}

export class StatsPointView {
  @ApiProperty({ description: 'start of the bucket' }) start: string;
  @ApiProperty({ type: DeliveryOutcomesView, description: 'deliveries created in the bucket, by their status now' }) deliveries: DeliveryOutcomesView;
  @ApiProperty({ description: 'attempts started in the bucket' }) attempts: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty({ nullable: true, type: Number }) p50LatencyMs: number | null;
  @ApiProperty({ nullable: true, type: Number }) p99LatencyMs: number | null;
}

export class StatsSeriesView {
  @ApiProperty({ example: '24h' }) window: string;
  @ApiProperty({ example: '1h' }) step: string;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ type: AttemptWindowView, description: 'attempts over the whole window' }) total: AttemptWindowView;
  @ApiProperty({ type: [StatsPointView], description: 'one point per step, oldest first, empty buckets included' }) points: StatsPointView[];
}

export class EndpointStatsWithSeriesView extends EndpointStatsView {
  @ApiPropertyOptional({ type: StatsSeriesView, description: 'present when `window` is given' }) series?: StatsSeriesView;
}

export class TenantStatsView {
  @ApiProperty() tenantId: string;
  @ApiProperty({ type: StatsSeriesView }) series: StatsSeriesView;
}
