interface EndpointShare {
  held: number;
  waiting: (() => void)[];
}

/**
 * How many attempts a worker process sends at once (DESIGN.md principle 12): one budget for all its shards,
 * shared fairly. An endpoint gets all of it while no other endpoint waits; once others wait, the next free
 * place goes, round robin, to a waiting endpoint below its fair share (capacity ÷ endpoints that hold or want
 * places), so a hot endpoint's backlog cannot keep other endpoints' attempts waiting behind it. When every
 * waiting endpoint is at or above its share, places still go round robin: the budget never idles while
 * anyone waits. Pure bookkeeping, no I/O.
 */
export class AttemptBudget {
  private readonly endpoints = new Map<string, EndpointShare>();
  private held = 0;
  private waiters = 0;
  /** Round-robin position: endpoints are served in the Map's order, starting after the last one served. */
  private cursor: string | null = null;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get inFlight(): number {
    return this.held;
  }

  get waiting(): number {
    return this.waiters;
  }

  /** A place now, if one is free and nobody waits for one (then call `release`); false otherwise, and nothing changes. */
  tryAcquire(endpointId: string): boolean {
    if (this.held >= this.capacity || this.waiters > 0) return false;
    this.take(endpointId, this.shareOf(endpointId));
    return true;
  }

  /** Resolves when this endpoint may send one more attempt; call `release` with the same id afterwards. */
  acquire(endpointId: string): Promise<void> {
    if (this.tryAcquire(endpointId)) return Promise.resolve();
    const share = this.shareOf(endpointId);
    return new Promise<void>((resolve) => {
      share.waiting.push(resolve);
      this.waiters++;
      this.grant();
    });
  }

  release(endpointId: string): void {
    const share = this.endpoints.get(endpointId);
    if (!share || share.held === 0) throw new Error(`release without acquire for ${endpointId}`);
    share.held--;
    this.held--;
    if (share.held === 0 && share.waiting.length === 0) this.endpoints.delete(endpointId);
    this.grant();
  }

  /** What each endpoint may hold while others wait. */
  fairShare(): number {
    return Math.max(1, Math.floor(this.capacity / Math.max(1, this.endpoints.size)));
  }

  private shareOf(endpointId: string): EndpointShare {
    let share = this.endpoints.get(endpointId);
    if (!share) {
      share = { held: 0, waiting: [] };
      this.endpoints.set(endpointId, share);
    }
    return share;
  }

  private take(endpointId: string, share: EndpointShare): void {
    share.held++;
    this.held++;
    this.cursor = endpointId;
  }

  private grant(): void {
    while (this.held < this.capacity && this.waiters > 0) {
      const next = this.nextWaiting(this.fairShare()) ?? this.nextWaiting(Infinity);
      if (!next) return;
      const [endpointId, share] = next;
      const wake = share.waiting.shift()!;
      this.waiters--;
      this.take(endpointId, share);
      wake();
    }
  }

  /** The next endpoint after the cursor, round robin, that waits and holds fewer than `limit`. */
  private nextWaiting(limit: number): [string, EndpointShare] | undefined {
    const entries = [...this.endpoints];
    const start = this.cursor === null ? 0 : entries.findIndex(([id]) => id === this.cursor) + 1;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(start + i) % entries.length];
      if (entry[1].waiting.length > 0 && entry[1].held < limit) return entry;
    }
    return undefined;
  }
}
