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
import { WAITING_IN_LINE_SQL } from '../endpoints/ordering';
import { EndpointStatsWithSeriesView, StatsQuery, TenantStatsView } from './dto/endpoint-stats.dto';
import { FigureRow, Span, collect, deliveriesMade, rollUpFor, seriesSpan, statsSeries, windowView } from './stats-series';
import { seriesWindow } from './stats-window';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

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
    const now = new Date();
    const window = query.window ? seriesWindow(query.window, query.step, now) : undefined;
    // the last hour and day start on a whole minute, so that their closed part is read once a minute at most
    const minute = Math.floor(now.getTime() / 60_000) * 60_000;
    const summary = (ms: number): Span => ({ from: new Date(minute - ms), to: now, stepMs: ms + 60_000 }); // one bucket
    const hour = summary(HOUR_MS);
    const day = summary(DAY_MS);
    // what the three reads take from the rollup, rolled up first (once), so that they can run side by side
    await rollUpFor(this.db, [endpoint.id], window ? [hour, day, seriesSpan(window)] : [hour, day], now);
    const shared = new Map<number, Promise<FigureRow[]>>(); // the rows after the rolled granules, read once for the three
    const [unsettled, all, lastHour, lastDay, backlogMs, inFlight, series] = await Promise.all([
      // pending and dead through the partial index of unsettled deliveries; the rest of the endpoint's succeeded
      this.db.query(
        `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
                count(*) FILTER (WHERE status = 'dead')::int AS dead,
                count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now() AND next_attempt_at < ${WAITING_IN_LINE_SQL})::int AS scheduled,
                count(*) FILTER (WHERE status = 'pending' AND next_attempt_at >= ${WAITING_IN_LINE_SQL})::int AS waiting_in_line
         FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND status <> 'succeeded'`,
        [tenant.id, endpoint.id],
      ) as Promise<{ pending: number; dead: number; scheduled: number; waiting_in_line: number }[]>,
      deliveriesMade(this.db, endpoint.id, now),
      collect(this.db, tenant.id, [endpoint.id], hour, now, false, shared),
      collect(this.db, tenant.id, [endpoint.id], day, now, false, shared),
      // Redis being away costs these two figures, not the whole answer.
      endpoint.rateLimitPerSecond ? this.rateLimiter.endpointBacklog(endpoint.id, endpoint.rateLimitPerSecond).catch(this.unknown) : Promise.resolve(null),
      endpoint.maxInFlight ? this.inFlight.count(endpoint.id).catch(this.unknown) : Promise.resolve(null),
      window ? statsSeries(this.db, tenant.id, [endpoint.id], window, now, false, shared) : Promise.resolve(undefined),
    ]);
    const u = unsettled[0];
    const circuit = circuitView(
      { consecutiveFailures: endpoint.consecutiveFailures, phase: endpoint.circuitPhase, until: endpoint.circuitUntil, cooldownMs: endpoint.circuitCooldownMs },
      new Date(),
      { threshold: this.config.circuitThreshold, cooldownMs: this.config.circuitCooldownMs },
    );
    return {
      endpointId: endpoint.id,
      deliveries: { pending: u.pending, succeeded: Math.max(0, all - u.pending - u.dead), dead: u.dead, scheduled: u.scheduled, waitingInLine: u.waiting_in_line },
      lastHour: windowView(lastHour.total),
      lastDay: windowView(lastDay.total),
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
