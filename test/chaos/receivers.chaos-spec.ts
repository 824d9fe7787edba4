import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { ChaosWorld, burst, ledger, startWorld, waitQuiet } from '../support/chaos';
import { ApiClient, HeraldProcess, spawnHerald } from '../support/herald';

type Fault = 'hang' | 'reset' | 'slow' | 'garbage';

/**
 * A receiver that misbehaves on the first request for every tenth event (by the payload's `n`) and answers
 * 200 otherwise: it hangs, resets the connection, answers slowly (within the timeout), or answers bytes
 * that are not HTTP.
 */
class FaultyReceiver {
  readonly received: { headers: IncomingHttpHeaders; at: number }[] = [];
  faults = 0;
  private readonly seen = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;

  constructor(readonly fault: Fault) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        const n = (JSON.parse(Buffer.concat(chunks).toString()) as { n: number }).n;
        const first = !this.seen.has(id);
        this.seen.add(id);
        const ok = () => {
          this.received.push({ headers: req.headers, at: Date.now() });
          res.writeHead(200).end('ok');
        };
        if (!first || n % 10 !== 0) return ok();
        if (this.fault === 'slow') return void setTimeout(ok, 300);
        this.faults++;
        if (this.fault === 'hang') return; // closed by the sender's timeout
        if (this.fault === 'reset') return void req.socket.resetAndDestroy();
        req.socket.end('HTTP/1.1 2OO NOT-HTTP\r\n\u0000\u0001garbage\r\n\r\n');
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const POLICY = { maxAttempts: 3, initialDelayMs: 300, maxDelayMs: 2000, multiplier: 2 };

describe('chaos: receivers that hang, reset, answer slowly or answer garbage', () => {
  let world: ChaosWorld;
  let herald: HeraldProcess;

  beforeAll(async () => {
    world = await startWorld();
    // A burst of failures may open an endpoint's circuit (deliveries wait, they do not fail); a short
    // cool-down keeps that wait within the test's time.
    herald = await spawnHerald({ ...world.env, HERALD_ROLE: 'all', HERALD_WORKER_CONCURRENCY: '400', HERALD_CIRCUIT_COOLDOWN_MS: '1000' });
  });
  afterAll(async () => {
    await herald?.stop('SIGKILL');
    await world?.close();
  });

  it('every accepted event is delivered; failed attempts are retried on the policy schedule with the right error', async () => {
    const started = Date.now();
    const api = new ApiClient(herald.url);
    const tenantId = (await api.post('/v1/tenants', { name: 'receivers' })).body.id as string;
    const receivers = await Promise.all((['hang', 'reset', 'slow', 'garbage'] as Fault[]).map((f) => new FaultyReceiver(f).start()));
    const endpoints = new Map<string, FaultyReceiver>();
    for (const receiver of receivers) {
      // The slow receiver answers after 300 ms, which must be well within its timeout whatever the box's load: with
      // 800 ms, a burst's event-loop lag in the worker and in this process (up to ~0.5 s on a 2-core box) made a few
      // of its answers time out. The others keep 800 ms, the hang's timeout, which the test waits for.
      const timeoutMs = receiver.fault === 'slow' ? 10_000 : 800;
      const res = await api.post(`/v1/tenants/${tenantId}/endpoints`, { url: receiver.url, timeoutMs, retryPolicy: POLICY });
      expect(res.status).toBe(201);
      endpoints.set(res.body.id, receiver);
    }
    const subscribers = [...endpoints].map(([endpointId, receiver]) => ({ receiver, endpointId, matches: () => true }));
    try {
      const { accepted, refused, ms } = await burst({ baseUrl: () => herald.url, tenantId, total: 2000 });
      expect(refused.size).toBe(0);
      const quietMs = await waitQuiet(world, subscribers).catch(async (error: Error) => {
        const state = await world.sql(`SELECT id, consecutive_failures, circuit_phase, circuit_until, disabled FROM endpoints WHERE tenant_id = $1`, [tenantId]);
        const faults = Object.fromEntries([...endpoints].map(([id, r]) => [id, `${r.fault}: ${r.received.length} ok, ${r.faults} faults`]));
        throw new Error(`${error.message}\nendpoints: ${JSON.stringify(faults)}\nstate: ${JSON.stringify(state)}\nlog: ${herald.output().slice(-3000)}`);
      });
      const result = await ledger('faulty receivers', world, tenantId, subscribers, accepted);
      expect(result.lost).toBe(0);
      expect(result.delivered).toBe(accepted.size);

      const attempts: { endpoint_id: string; delivery_id: string; attempt_number: number; trigger: string; started_at: Date; duration_ms: number; status_code: number | null; error: string | null }[] =
        await world.sql(
          `SELECT a.endpoint_id, a.delivery_id, a.attempt_number, a.trigger, a.started_at, a.duration_ms, a.status_code, a.error
           FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1 ORDER BY a.delivery_id, a.attempt_number`,
          [tenantId],
        );
      const byDelivery = new Map<string, typeof attempts>();
      for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
      const summary: Record<string, { deliveries: number; retried: number; errors: Set<string>; minGapMs: number }> = {};
      for (const [, list] of byDelivery) {
        const fault = endpoints.get(list[0].endpoint_id)!.fault;
        const s = (summary[fault] ??= { deliveries: 0, retried: 0, errors: new Set(), minGapMs: Infinity });
        s.deliveries++;
        expect(list.map((a) => a.attempt_number)).toEqual(list.map((_, i) => i + 1));
        expect(list[list.length - 1].status_code).toBe(200);
        if (list.length === 1) continue;
        // One failed attempt, then the retry: after the policy's first delay (300 ms, -20 % jitter at most).
        s.retried++;
        expect(list).toHaveLength(2);
        expect(list.map((a) => a.trigger)).toEqual(['initial', 'retry']);
        s.errors.add(String(list[0].error));
        const gap = list[1].started_at.getTime() - (list[0].started_at.getTime() + list[0].duration_ms);
        s.minGapMs = Math.min(s.minGapMs, gap);
      }
      for (const [fault, s] of Object.entries(summary)) {
        console.log(`  ${fault}: ${s.deliveries} deliveries, ${s.retried} retried once (errors: ${[...s.errors].join(', ') || 'none'}; shortest wait before the retry ${s.minGapMs} ms)`);
      }
      console.log(`  burst ${ms} ms, quiet ${quietMs} ms after; total ${Date.now() - started} ms`);
      const faultyEvents = [...accepted.values()].length / 10;
      expect(summary.slow.retried).toBe(0);
      for (const fault of ['hang', 'reset', 'garbage']) {
        expect(summary[fault].retried).toBe(endpoints.get([...endpoints].find(([, r]) => r.fault === fault)![0])!.faults);
        expect(summary[fault].retried).toBeGreaterThanOrEqual(Math.floor(faultyEvents) - 5);
        expect(summary[fault].minGapMs).toBeGreaterThanOrEqual(240 - 20);
      }
      expect([...summary.hang.errors]).toEqual(['timeout']);
      expect([...summary.reset.errors]).toEqual(['connection_reset']);
      expect(summary.garbage.errors.has('null')).toBe(false);
    } finally {
      await Promise.all(receivers.map((r) => r.close()));
    }
  });
});
