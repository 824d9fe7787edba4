import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { EndpointsService } from '../endpoints/endpoints.service';
import { InFlightLimiter } from '../rate-limit/in-flight';
import { EndpointRateLimiter } from '../rate-limit/rate-limiter';
import { Tenant } from '../tenants/tenant.entity';
import { circuitView } from '../endpoints/circuit-breaker';
import { AttemptWindowView, EndpointStatsWithSeriesView, StatsQuery, TenantStatsView } from './dto/endpoint-stats.dto';
import { statsSeries } from './stats-series';
import { firstIdAt, seriesWindow } from './stats-window';

interface WindowRow {
  attempts: number;
  succeeded: number;
  p50: number | null;
  p99: number | null;
}

function windowView(r: WindowRow): AttemptWindowView {
  const round = (v: number | null) => (v === null ? null : Math.round(Number(v) * 10) / 10);
  return {
    attempts: r.attempts,
    succeeded: r.succeeded,
    failed: r.attempts - r.succeeded,
    successRate: r.attempts ? Math.round((r.succeeded / r.attempts) * 10_000) / 10_000 : null,
    p50LatencyMs: round(r.p50),
    p99LatencyMs: round(r.p99),
  };
}

/** An endpoint's health at a glance: from PostgreSQL (deliveries, attempts, circuit) and Redis (limiters). */
@Injectable()
export class EndpointStatsService {
  private readonly logger = new Logger(EndpointStatsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointsService,
    private readonly rateLimiter: EndpointRateLimiter,
    private readonly inFlight: InFlightLimiter,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** The summary; with `window`, also a time series (deliveries by outcome, p50/p99 per step). */
  async stats(tenant: Tenant, endpointId: string, query: StatsQuery = {}): Promise<EndpointStatsWithSeriesView> {
    const endpoint = await this.endpoints.get(tenant, endpointId);
    const window = query.window ? seriesWindow(query.window, query.step, new Date()) : undefined;
    const [counts, windows, backlogMs, inFlight, series] = await Promise.all([
      this.db.query(
        `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
                count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE status = 'dead')::int AS dead,
                count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now())::int AS scheduled
         FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2`,
        [tenant.id, endpoint.id],
      ) as Promise<{ pending: number; succeeded: number; dead: number; scheduled: number }[]>,
      this.db.query(
        `WITH a AS (
           SELECT started_at >= now() - interval '1 hour' AS recent, duration_ms, (error IS NULL AND status_code BETWEEN 200 AND 299) AS ok
           FROM attempts WHERE endpoint_id = $1 AND started_at >= now() - interval '1 day' AND id >= $2)
         SELECT count(*) FILTER (WHERE recent)::int AS hour_attempts,
                count(*) FILTER (WHERE recent AND ok)::int AS hour_succeeded,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE recent) AS hour_p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE recent) AS hour_p99,
                count(*)::int AS day_attempts,
                count(*) FILTER (WHERE ok)::int AS day_succeeded,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS day_p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS day_p99
         FROM a`,
        // The id bound skips the day partitions older than a day (an attempt's id is made after it started).
        [endpoint.id, firstIdAt('att', new Date(Date.now() - 86_400_000))],
      ) as Promise<Record<string, number | null>[]>,
      // Redis being away costs these two figures, not the whole answer.
      endpoint.rateLimitPerSecond ? this.rateLimiter.endpointBacklog(endpoint.id, endpoint.rateLimitPerSecond).catch(this.unknown) : Promise.resolve(null),
      endpoint.maxInFlight ? this.inFlight.count(endpoint.id).catch(this.unknown) : Promise.resolve(null),
      window ? statsSeries(this.db, tenant.id, [endpoint.id], window) : Promise.resolve(undefined),
    ]);
    const w = windows[0];
    const circuit = circuitView(
      { consecutiveFailures: endpoint.consecutiveFailures, phase: endpoint.circuitPhase, until: endpoint.circuitUntil, cooldownMs: endpoint.circuitCooldownMs },
      new Date(),
      { threshold: this.config.circuitThreshold, cooldownMs: this.config.circuitCooldownMs },
    );
    return {
      endpointId: endpoint.id,
      deliveries: counts[0],
      lastHour: windowView({ attempts: w.hour_attempts as number, succeeded: w.hour_succeeded as number, p50: w.hour_p50, p99: w.hour_p99 }),
      lastDay: windowView({ attempts: w.day_attempts as number, succeeded: w.day_succeeded as number, p50: w.day_p50, p99: w.day_p99 }),
      circuit: {
        state: circuit.state,
        until: circuit.until?.toISOString() ?? null,
        consecutiveFailures: endpoint.consecutiveFailures,
        failingSince: endpoint.failingSince?.toISOString() ?? null,
      },
      rateLimit: { rateLimitPerSecond: endpoint.rateLimitPerSecond, backlogMs, maxInFlight: endpoint.maxInFlight, inFlight },
      ...(series ? { series } : {}),
    };
  }

  /** The tenant's time series over all its endpoints (or a portal link's), default the last 24 h by hour. */
  async tenantStats(tenant: Tenant, query: StatsQuery, scope?: string[]): Promise<TenantStatsView> {
    const window = seriesWindow(query.window ?? '24h', query.step ?? (query.window ? undefined : '1h'), new Date());
    const endpointIds = scope ?? ((await this.db.query(`SELECT id FROM endpoints WHERE tenant_id = $1`, [tenant.id])) as { id: string }[]).map((r) => r.id);
    return { tenantId: tenant.id, series: await statsSeries(this.db, tenant.id, endpointIds, window) };
  }

  private readonly unknown = (error: Error): null => {
    this.logger.warn(`limiter state unavailable: ${error.message}`);
    return null;
  };
}
