import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './herald';
import { waitFor } from './wait';

const run = promisify(execFile);

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** promtool (Debian's prometheus package; scripts/prometheus.sh installs it): its output, or it throws with it. */
export async function promtool(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('promtool', args, { timeout: 60_000 });
  return stdout + stderr;
}

/**
 * A real Prometheus of a test's own: a free port, its own temporary directory, scraping the given
 * targets every second and evaluating `rules` (file contents) every second.
 */
export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private output: () => string,
  ) {}

  static async start(targets: { job: string; address: string }[], rules: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-prometheus-'));
    writeFileSync(join(dir, 'alerts.yml'), rules);
    const jobs = targets.map((t) => `  - job_name: ${t.job}\n    static_configs:\n      - targets: ["${t.address}"]`).join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - alerts.yml\nscrape_configs:\n${jobs}\n`);
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir, () => output);
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`prometheus exited with ${code}: ${output}`);
    });
    await Promise.race([waitFor('prometheus to be ready', async () => (await fetch(`${server.url}/-/ready`).catch(() => null))?.ok, 60_000, 200), exited]);
    exited.catch(() => undefined);
    return server;
  }

  /** An instant query through the HTTP API; throws on a PromQL error. */
  async query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    // A scalar (e.g. vector(0) folded) counts as one sample.
    return body.data.resultType === 'scalar' ? [{ metric: {}, value: body.data.result as [number, string] }] : (body.data.result as PromSample[]);
  }

  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    const res = await fetch(`${this.url}/api/v1/alerts`);
    return ((await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
  }

  /** Targets and their scrape health. */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    return ((await res.json()) as { data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] } }).data.activeTargets;
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
