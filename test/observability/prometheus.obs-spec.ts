import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { ApiClient, HeraldProcess, spawnHerald, testEnvironment } from '../support/herald';
import { PrometheusServer, promtool } from '../support/prometheus';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/**
 * The shipped dashboard and alert rules against the real tools: promtool checks the files, then a real
 * Prometheus scrapes a running Herald (dist/, as deployed) while it delivers, fails, dead-letters, opens a
 * circuit and holds a throttled backlog, and every expression of the dashboard and of the rules must
 * return data through Prometheus's HTTP API. The failure-rate alert must fire.
 */
const DEPLOY = join(__dirname, '../../deploy');
const RULES = readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8');
const DASHBOARD = JSON.parse(readFileSync(join(DEPLOY, 'grafana/herald.json'), 'utf8'));

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of the dashboard, with Grafana's rate interval as one minute. */
function dashboardExpressions(): { title: string; expr: string }[] {
  const all = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(DASHBOARD.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr.replaceAll('$__rate_interval', '1m') })));
}

/** Every alert rule: its name and its expression. */
function ruleExpressions(): { alert: string; expr: string }[] {
  return [...RULES.matchAll(/- alert: (\S+)\n\s+expr: (.+)\n/g)].map((m) => ({ alert: m[1], expr: m[2] }));
}

/**
 * The queries inside a rule's expression without their thresholds: `A > 0.25` gives A, and
 * `(A > 0) and (B == 0)` gives A and B. A rule that is not firing returns nothing; its queries must not.
 */
export function ruleQueries(expr: string): string[] {
  const joined = /^\((.*)\)\s+(?:and|or|unless)\s+\((.*)\)$/s.exec(expr.trim());
  if (joined) return [...ruleQueries(joined[1]), ...ruleQueries(joined[2])];
  const compared = /^(.*?)\s*(?:>=|<=|==|!=|>|<)\s*(-?[\d.]+)$/s.exec(expr.trim());
  return [compared ? compared[1] : expr.trim()];
}

describe('Prometheus: the dashboard and the alert rules against a running Herald', () => {
  let herald: HeraldProcess;
  let prometheus: PrometheusServer;
  let dispose: () => Promise<void>;
  const receivers: TestReceiver[] = [];

  beforeAll(async () => {
    const environment = await testEnvironment({ HERALD_CIRCUIT_THRESHOLD: '3' });
    dispose = environment.dispose;
    herald = await spawnHerald(environment.env);
    // The rules as shipped, but firing as soon as their condition holds: the durations (5-10 minutes) are
    // for people; what is tested is that the expression and threshold trip on real data.
    const rules = RULES.replace(/for: \S+/g, 'for: 0s');
    prometheus = await PrometheusServer.start([{ job: 'herald', address: herald.url.replace('http://', '') }], rules);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await herald?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await dispose?.();
  });

  it('promtool accepts the rules and the Prometheus configuration', async () => {
    expect(await promtool('check', 'rules', join(DEPLOY, 'prometheus/alerts.yml'))).toContain('SUCCESS: 9 rules found');
    expect(await promtool('check', 'config', join(DEPLOY, 'prometheus/prometheus.yml'))).toContain('is valid prometheus config file syntax');
  });

  it('answers every dashboard panel and every rule query with data, and fires the failure-rate alert', async () => {
    const api = new ApiClient(herald.url);
    const ok = await TestReceiver.start();
    const failing = (await TestReceiver.start()).always({ status: 500, body: 'down' });
    receivers.push(ok, failing);

    const healthy = await createTenant(api);
    const broken = await createTenant(api);
    await createEndpoint(api, healthy.id, { url: `${ok.url}/fast` });
    // A throttled endpoint: its deliveries wait for their slots, a backlog PostgreSQL and Bull both show.
    await createEndpoint(api, healthy.id, { url: `${ok.url}/throttled`, rateLimitPerSecond: 1, eventTypes: ['bulk.*'] });
    // Every attempt fails and ends the delivery (dead letters); three in a row open the circuit.
    await createEndpoint(api, broken.id, { url: failing.url, retryPolicy: { maxAttempts: 1 } });

    await Promise.all(Array.from({ length: 20 }, (_, i) => publish(api, healthy.id, 'order.created', { i })));
    await Promise.all(Array.from({ length: 30 }, (_, i) => publish(api, healthy.id, 'bulk.sync', { i })));
    // rate() cannot see what a series counted before its first sample: one failure first, the rest once
    // Prometheus holds that series, so that the failure rate is measurable (and the alert can fire).
    await publish(api, broken.id, 'order.created', { i: 0 });
    await waitFor('Prometheus to see the first failure', async () => (await prometheus.query(`herald_delivery_attempts_total{tenant="${broken.id}"}`)).length > 0, 30_000, 200);
    await Promise.all(Array.from({ length: 7 }, (_, i) => publish(api, broken.id, 'order.created', { i: i + 1 })));

    await waitFor('the healthy deliveries', () => ok.forPath('/fast').length >= 20, 60_000);
    // The circuit opens after the third; the dashboard's circuit panels wait for it below.
    await waitFor('three dead letters', async () => (await api.get(`/v1/tenants/${broken.id}/deliveries?status=dead`)).body.data.length >= 3, 60_000);
    await waitFor('Prometheus to scrape Herald', async () => (await prometheus.targets()).some((t) => t.health === 'up'), 30_000);

    const empty: string[] = [];
    for (const { title, expr } of dashboardExpressions()) {
      await waitFor(`panel "${title}" to show data: ${expr}`, async () => (await prometheus.query(expr)).length > 0, 30_000, 500).catch(() => empty.push(`panel "${title}": ${expr}`));
    }
    for (const { alert, expr } of ruleExpressions()) {
      for (const query of ruleQueries(expr)) {
        await waitFor(`rule ${alert} to have data: ${query}`, async () => (await prometheus.query(query)).length > 0, 30_000, 500).catch(() => empty.push(`rule ${alert}: ${query}`));
      }
    }
    expect(empty).toEqual([]);

    const failureRule = ruleExpressions().find((r) => r.alert === 'HeraldDeliveryFailureRateHigh')!;
    const firing = await waitFor(
      'HeraldDeliveryFailureRateHigh to fire for the broken tenant',
      async () => (await prometheus.alerts()).find((a) => a.labels.alertname === 'HeraldDeliveryFailureRateHigh' && a.state === 'firing'),
      60_000,
      500,
    ).catch(async (error: Error) => {
      const value = JSON.stringify(await prometheus.query(ruleQueries(failureRule.expr)[0]));
      throw new Error(`${error.message}; its query now: ${value}; alerts: ${JSON.stringify(await prometheus.alerts())}`);
    });
    expect(firing!.labels).toMatchObject({ tenant: broken.id, severity: 'warning' });
    // The healthy tenant's attempts all succeed: no alert for it.
    expect((await prometheus.alerts()).filter((a) => a.labels.alertname === 'HeraldDeliveryFailureRateHigh' && a.labels.tenant === healthy.id)).toEqual([]);
  });
});

describe('the shipped files', () => {
  it('have the expressions this test evaluates', () => {
    expect(dashboardExpressions().length).toBeGreaterThanOrEqual(20);
    expect(ruleExpressions().map((r) => r.alert)).toHaveLength(9);
  });
});

describe('ruleQueries', () => {
  it('strips thresholds and splits set operations', () => {
    expect(ruleQueries('max by (shard) (x) > 300')).toEqual(['max by (shard) (x)']);
    expect(ruleQueries('(sum(a) > 0) and ((sum(rate(b[5m])) or vector(0)) == 0)')).toEqual(['sum(a)', '(sum(rate(b[5m])) or vector(0))']);
    expect(ruleQueries('up{job=~"herald.*"} == 0')).toEqual(['up{job=~"herald.*"}']);
  });
});
