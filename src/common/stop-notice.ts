/**
 * A stop that thousands of waiters listen for at once, each joining and leaving in constant time. An
 * AbortSignal would do the same job, but Node's EventTarget walks its whole listener list on every add and
 * remove (to refuse duplicates): with 2 000 attempts in flight listening to one signal, each attempt's add and
 * remove cost 2 000 steps.
 */
export class StopNotice {
  private readonly listeners = new Set<() => void>();
  private done = false;

  get stopped(): boolean {
    return this.done;
  }

  /** Calls `listener` once when the stop comes (at once if it has come); the function returned stops listening. */
  listen(listener: () => void): () => void {
    if (this.done) {
      listener();
      return () => undefined;
    }
    // A wrapper of its own, so one function listening twice is two listeners, and leaving removes only this one.
    const entry = () => listener();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Tells every listener, once; later calls do nothing. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}
