import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** One request as a keyed receiver saw it: which event (webhook-id), its key and number from the payload, the answer. */
export interface KeyedReceipt {
  eventId: string;
  key: string;
  n: number;
  status: number;
  at: number;
}

/** What to answer a request: a status, after an optional delay. */
export type KeyedAnswer = { status: number; delayMs?: number };

/**
 * A receiver for ordered delivery: payloads carry `{ key, n }` (n: the publish position within the key), and `decide`
 * answers each request from what it carries and how often that event was seen. It records every request in arrival
 * order, and counts the requests of one key in flight at once (more than one would break ordered delivery).
 */
export class KeyedReceiver {
  readonly receipts: KeyedReceipt[] = [];
  /** The most requests of one key in flight at once, over all keys. */
  maxInFlightPerKey = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private server?: Server;

  constructor(private decide: (payload: { key: string; n: number }, seenBefore: number, eventId: string) => KeyedAnswer) {}

  static async start(decide: KeyedReceiver['decide']): Promise<KeyedReceiver> {
    const receiver = new KeyedReceiver(decide);
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }

  answer(decide: KeyedReceiver['decide']): void {
    this.decide = decide;
  }

  /** Per key, the events' numbers in the order of their first 2xx. */
  firstSuccesses(): Map<string, number[]> {
    const done = new Set<string>();
    const byKey = new Map<string, number[]>();
    for (const r of this.receipts) {
      if (r.status < 200 || r.status >= 300 || done.has(r.eventId)) continue;
      done.add(r.eventId);
      byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.n]);
    }
    return byKey;
  }

  ofKey(key: string): KeyedReceipt[] {
    return this.receipts.filter((r) => r.key === key);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const eventId = String(req.headers['webhook-id'] ?? '');
        let payload: { key: string; n: number };
        try {
          payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          payload = { key: '', n: -1 };
        }
        const seenBefore = this.seen.get(eventId) ?? 0;
        this.seen.set(eventId, seenBefore + 1);
        const answer = this.decide(payload, seenBefore, eventId);
        const key = String(payload.key);
        const now = (this.inFlight.get(key) ?? 0) + 1;
        this.inFlight.set(key, now);
        this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, now);
        const reply = () => {
          this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
          this.receipts.push({ eventId, key, n: payload.n, status: answer.status, at: Date.now() });
          res.writeHead(answer.status);
          res.end();
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
    this.server.keepAliveTimeout = 30_000;
    return new Promise((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
  }
}
