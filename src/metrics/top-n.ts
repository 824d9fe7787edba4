/** The label value that stands for every key outside the top N. */
export const OTHER = 'other';

/**
 * Bounds a label's values: at most `limit` keys get a value of their own, everything else is `other`.
 * Seats go to the first keys seen while some are free; at the end of each window they are given
 * afresh to the keys with the most hits in it (ties: the key seen first keeps its seat), so a busy
 * key takes the seat of one gone quiet. Pure: the caller passes the time.
 */
export class TopN {
  private seated = new Set<string>();
  private hits = new Map<string, number>();
  private windowStart: number | null = null;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /**
   * The label value for one hit of `key` at `now`; `evicted` receives keys that lost their seat at a
   * window's end (their series should be removed, or the bound would not hold).
   */
  label(key: string, now: number, evicted: (key: string) => void = () => undefined): string {
    if (this.windowStart === null) this.windowStart = now;
    else if (now - this.windowStart >= this.windowMs) this.reseat(now, evicted);
    this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
    if (this.seated.has(key)) return key;
    if (this.seated.size < this.limit) {
      this.seated.add(key);
      return key;
    }
    return OTHER;
  }

  /** The keys holding a seat now. */
  seats(): string[] {
    return [...this.seated];
  }

  private reseat(now: number, evicted: (key: string) => void): void {
    // More than a window since the last one began: the window just ended saw no hit at all.
    if (now - this.windowStart! >= 2 * this.windowMs) this.hits = new Map();
    const ranked = [...this.hits].sort((a, b) => b[1] - a[1]).slice(0, this.limit);
    const next = new Set(ranked.map(([key]) => key));
    for (const key of this.seated) if (!next.has(key)) evicted(key);
    this.seated = next;
    this.hits = new Map();
    this.windowStart = now;
  }
}

/**
 * For counts read all at once (backlog, dead letters): the `limit` largest keep their key, the rest
 * are summed into `other`. Ties go to the key that sorts first, so the choice is stable between scrapes.
 */
export function topCounts(counts: Map<string, number>, limit: number): Map<string, number> {
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const result = new Map(ranked.slice(0, limit));
  const rest = ranked.slice(limit).reduce((sum, [, n]) => sum + n, 0);
  if (ranked.length > limit) result.set(OTHER, (result.get(OTHER) ?? 0) + rest);
  return result;
}
