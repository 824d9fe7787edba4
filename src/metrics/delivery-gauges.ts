import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { MetricsService } from './metrics.service';
import { OTHER, topCounts } from './top-n';

/** The PostgreSQL figures are read at most this often, however often Prometheus scrapes. */
export const DELIVERY_GAUGES_CACHE_MS = 10_000;

interface CountRow {
  tenant_id: string;
  endpoint_id: string;
  status: 'pending' | 'dead';
  n: number;
  overdue_s: number | null;
}

interface CircuitRow {
  tenant_id: string;
  id: string;
  failing_s: number | null;
}

/** Puts per-(tenant, endpoint) values into a gauge with at most `endpoints` endpoint and `tenants` tenant values (+ other). */
export function bounded(rows: { tenant: string; endpoint: string; value: number }[], endpoints: number, tenants: number): Map<string, { tenant: string; endpoint: string; value: number }> {
  const byEndpoint = new Map<string, number>();
  const byTenant = new Map<string, number>();
  for (const r of rows) {
    byEndpoint.set(r.endpoint, (byEndpoint.get(r.endpoint) ?? 0) + r.value);
    byTenant.set(r.tenant, (byTenant.get(r.tenant) ?? 0) + r.value);
  }
  const keptEndpoints = topCounts(byEndpoint, endpoints);
  const keptTenants = topCounts(byTenant, tenants);
  const series = new Map<string, { tenant: string; endpoint: string; value: number }>();
  for (const r of rows) {
    const tenant = keptTenants.has(r.tenant) ? r.tenant : OTHER;
    const endpoint = keptEndpoints.has(r.endpoint) && tenant !== OTHER ? r.endpoint : OTHER;
    const key = `${tenant}\u0000${endpoint}`;
    const s = series.get(key) ?? { tenant, endpoint, value: 0 };
    s.value += r.value;
    series.set(key, s);
  }
  return series;
}

/**
 * Backlog, dead letters and open circuits per tenant and endpoint, from PostgreSQL (the truth, whatever
 * Redis holds), cached for DELIVERY_GAUGES_CACHE_MS. The pending rows are read through the sweeper's
 * partial index and the dead ones through deliveries_dead_idx; endpoints with an open circuit are few.
 */
@Injectable()
export class DeliveryGauges {
  private readonly logger = new Logger(DeliveryGauges.name);
  private readAt = 0;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly metrics: MetricsService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async refresh(now = Date.now()): Promise<void> {
    if (now - this.readAt < DELIVERY_GAUGES_CACHE_MS) return;
    this.reading ??= this.read()
      .then(() => void (this.readAt = Date.now()))
      .catch((error: Error) => this.logger.warn(`could not read the delivery gauges: ${error.message}`))
      .finally(() => (this.reading = null));
    await this.reading;
  }

  private async read(): Promise<void> {
    const [counts, circuits]: [CountRow[], CircuitRow[]] = await Promise.all([
      this.db.query(
        `SELECT tenant_id, endpoint_id, 'pending' AS status, count(*)::int AS n,
                extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now()))::float AS overdue_s
         FROM deliveries WHERE status = 'pending' GROUP BY tenant_id, endpoint_id
         UNION ALL
         SELECT tenant_id, endpoint_id, 'dead', count(*)::int, NULL FROM deliveries WHERE status = 'dead' GROUP BY tenant_id, endpoint_id`,
      ),
      this.db.query(
        `SELECT tenant_id, id, extract(epoch FROM now() - failing_since)::float AS failing_s
         FROM endpoints WHERE circuit_phase IS NOT NULL AND deleted_at IS NULL`,
      ),
    ]);
    const { metricsTopEndpoints: endpoints, metricsTopTenants: tenants } = this.config;
    const toSeries = (rows: CountRow[]) => bounded(rows.map((r) => ({ tenant: r.tenant_id, endpoint: r.endpoint_id, value: r.n })), endpoints, tenants);

    this.metrics.backlog.reset();
    for (const s of toSeries(counts.filter((r) => r.status === 'pending')).values()) this.metrics.backlog.set({ tenant: s.tenant, endpoint: s.endpoint }, s.value);
    this.metrics.deadLetters.reset();
    for (const s of toSeries(counts.filter((r) => r.status === 'dead')).values()) this.metrics.deadLetters.set({ tenant: s.tenant, endpoint: s.endpoint }, s.value);

    const overdue = new Map<string, number>();
    for (const r of counts) if (r.status === 'pending') overdue.set(r.tenant_id, Math.max(overdue.get(r.tenant_id) ?? 0, r.overdue_s ?? 0));
    const overdueByLabel = new Map<string, number>();
    const keptTenants = topCounts(overdue, tenants);
    for (const [tenant, seconds] of overdue) {
      const label = keptTenants.has(tenant) ? tenant : OTHER;
      overdueByLabel.set(label, Math.max(overdueByLabel.get(label) ?? 0, seconds));
    }
    this.metrics.backlogOverdue.reset();
    for (const [tenant, seconds] of overdueByLabel) this.metrics.backlogOverdue.set({ tenant }, seconds);

    this.metrics.circuitsOpen.reset();
    this.metrics.circuitOpenSeconds.reset();
    const open = bounded(circuits.map((c) => ({ tenant: c.tenant_id, endpoint: c.id, value: 1 })), endpoints, tenants);
    const perTenant = new Map<string, number>();
    for (const s of open.values()) perTenant.set(s.tenant, (perTenant.get(s.tenant) ?? 0) + s.value);
    for (const [tenant, n] of perTenant) this.metrics.circuitsOpen.set({ tenant }, n);
    const longest = topCounts(new Map(circuits.map((c) => [`${c.tenant_id}\u0000${c.id}`, c.failing_s ?? 0])), endpoints);
    for (const [key, seconds] of longest) {
      if (key === OTHER) continue;
      const [tenant, endpoint] = key.split('\u0000');
      this.metrics.circuitOpenSeconds.set({ tenant: perTenant.has(tenant) ? tenant : OTHER, endpoint }, seconds);
    }
  }
}
