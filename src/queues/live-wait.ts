/** How many recent waits are kept, and for how long they count. */
const SAMPLES = 512;
const HORIZON_MS = 5000;

/**
 * How long live-lane jobs waited between being due and being taken by this worker process, over the last few
 * seconds: the sign that live traffic is queueing. Background work that competes with it (a replay) slows down
 * while it grows. Pure bookkeeping, no I/O: a ring of the latest waits.
 */
export class LiveWait {
  private readonly at = new Float64Array(SAMPLES);
  private readonly waited = new Float64Array(SAMPLES);
  private next = 0;
  private count = 0;

  observe(waitedMs: number, now = Date.now()): void {
    this.at[this.next] = now;
    this.waited[this.next] = Math.max(0, waitedMs);
    this.next = (this.next + 1) % SAMPLES;
    this.count = Math.min(SAMPLES, this.count + 1);
  }

  /** The 90th percentile of the waits seen in the last HORIZON_MS; null when no live job was taken meanwhile. */
  recentP90(now = Date.now()): number | null {
    const recent: number[] = [];
    for (let i = 0; i < this.count; i++) if (now - this.at[i] <= HORIZON_MS) recent.push(this.waited[i]);
    if (recent.length === 0) return null;
    recent.sort((a, b) => a - b);
    return recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.9) - 1)];
  }
}
