// Bounded heavy hitters: the Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005) keeps `capacity` counters
// whatever the number of keys; any key counted more than total/capacity times is among them, and each count is over
// the truth by at most its `error`. Written here because it is twenty lines and no maintained package targets Workers.

export interface HeavyHitter {
  key: string;
  count: number;
  /** The count may exceed the key's true count by at most this much. */
  error: number;
}

export class TopK {
  private readonly counters = new Map<string, { count: number; error: number }>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(key: string, by = 1): void {
    const c = this.counters.get(key);
    if (c) {
      c.count += by;
      return;
    }
    if (this.counters.size < this.capacity) {
      this.counters.set(key, { count: by, error: 0 });
      return;
    }
    // Full: the smallest counter is handed to the new key, which inherits its count as possible error.
    let minKey = "";
    let min = Number.POSITIVE_INFINITY;
    for (const [k, v] of this.counters)
      if (v.count < min) {
        min = v.count;
        minKey = k;
      }
    this.counters.delete(minKey);
    this.counters.set(key, { count: min + by, error: min });
  }

  /** The `n` largest counts, largest first (ties by key). */
  top(n: number): HeavyHitter[] {
    return [...this.counters]
      .map(([key, v]) => ({ key, count: v.count, error: v.error }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
      .slice(0, n);
  }

  get size(): number {
    return this.counters.size;
  }
}
