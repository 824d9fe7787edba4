interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Calls made in the same tick, or while the previous batch runs, share one batch: one query for many jobs
 * that start together. One batch runs at a time (a second would only queue inside the database); `run`
 * answers each input in order, and a failed batch fails each of its callers, as a failed call of one would.
 */
export class TickBatch<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private running = false;
  private scheduled = false;
  /** How many calls the last batch served (a gauge for metrics). */
  lastSize = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    readonly max = 500,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.next();
        });
      }
    });
  }

  /** Calls waiting for a batch. */
  get queued(): number {
    return this.waiting.length;
  }

  private next(): void {
    if (this.running || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.max);
    this.running = true;
    this.lastSize = batch.length;
    void this.run(batch.map((w) => w.input))
      .then(
        (outputs) => batch.forEach((w, i) => w.resolve(outputs[i])),
        (error) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        this.running = false;
        this.next();
      });
  }
}
