import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer. */
  hang?: boolean;
}

/**
 * A real HTTP receiver on 127.0.0.1 whose answers the test controls. It records every request
 * (headers, raw body, arrival time) and how many are in flight at once.
 */
export class TestReceiver {
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private server?: Server;
  private replies: Reply[] = [];
  private fallback: Reply = { status: 200, body: 'ok' };
  private readonly hanging = new Set<() => void>();

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Answers the next requests with these replies in order, then with `always` (200 by default). */
  replyWith(replies: Reply[], always?: Reply): this {
    this.replies = [...replies];
    if (always) this.fallback = always;
    return this;
  }

  always(reply: Reply): this {
    this.replies = [];
    this.fallback = reply;
    return this;
  }

  forPath(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const release of this.hanging) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const reply = this.replies.shift() ?? this.fallback;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const answer = () => {
          this.inFlight--;
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? '');
        };
        if (reply.hang) {
          const release = () => {
            this.inFlight--;
            res.destroy();
          };
          this.hanging.add(release);
          res.on('close', () => this.hanging.delete(release));
        } else if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 30_000;
    return new Promise((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
  }
}
