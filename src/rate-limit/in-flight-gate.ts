import { InFlightLimiter } from './in-flight';

interface Waiter {
  token: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Line {
  max: number;
  leaseMs: number;
  waiters: Waiter[];
  /** Wakes the head of the line early (a lease of this process was released). */
  nudge?: () => void;
  polling: boolean;
}

/**
 * `maxInFlight` without a busy loop (DESIGN.md principle 4): attempts refused a lease wait in a line per
 * endpoint, in this process, and cost nothing while they wait. Only the head of a line asks Redis again: at
 * once when this process releases a lease of that endpoint, else when the earliest lease held elsewhere would
 * expire (at most a second later, as leases held by other processes are released without telling us). When the
 * head gets its lease, the next in line asks at once. So an endpoint with a thousand waiting attempts costs one
 * Redis call per release and at most one a second, not one per attempt.
 */
export class InFlightGate {
  private readonly lines = new Map<string, Line>();

  constructor(private readonly limiter: InFlightLimiter) {}

  /** Attempts waiting in this process for a lease of the endpoint. */
  waitingFor(endpointId: string): number {
    return this.lines.get(endpointId)?.waiters.length ?? 0;
  }

  /** Resolves once `token` holds one of the endpoint's `max` leases. */
  acquire(endpointId: string, max: number, leaseMs: number, token: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let line = this.lines.get(endpointId);
      if (!line) {
        line = { max, leaseMs, waiters: [], polling: false };
        this.lines.set(endpointId, line);
      }
      Object.assign(line, { max, leaseMs });
      line.waiters.push({ token, resolve, reject });
      if (!line.polling) void this.poll(endpointId, line);
    });
  }

  /** Gives the lease back and lets the next waiting attempt of the endpoint ask for it now. */
  async release(endpointId: string, token: string): Promise<void> {
    try {
      await this.limiter.release(endpointId, token);
    } finally {
      this.lines.get(endpointId)?.nudge?.();
    }
  }

  private async poll(endpointId: string, line: Line): Promise<void> {
    line.polling = true;
    try {
      while (line.waiters.length) {
        const head = line.waiters[0];
        let result;
        try {
          result = await this.limiter.acquire(endpointId, line.max, line.leaseMs, head.token);
        } catch (error) {
          line.waiters.shift();
          head.reject(error);
          continue;
        }
        if (result.ok) {
          line.waiters.shift();
          head.resolve();
          continue;
        }
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, result.retryInMs);
          line.nudge = () => {
            clearTimeout(timer);
            wake();
          };
        });
        line.nudge = undefined;
      }
    } finally {
      line.polling = false;
      if (line.waiters.length === 0 && this.lines.get(endpointId) === line) this.lines.delete(endpointId);
    }
  }
}
