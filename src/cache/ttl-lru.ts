// A bounded map: entries expire after a TTL and the least recently used go first when the entry or byte budget is
// full. Map keeps insertion order, so re-inserting on access makes the first key the LRU one.
import type { Clock } from "../core/clock.ts";

export interface TtlLruOptions<V> {
  maxEntries: number;
  /** Approximate byte budget (estimated with sizeOf). */
  maxBytes: number;
  ttlMs: number;
  clock: Clock;
  sizeOf: (key: string, value: V) => number;
  /** Called for entries pushed out by the bounds (not for expiry or delete): lets the lease book return allowance. */
  onEvict?: (key: string, value: V) => void;
  /** Called when an expired entry is dropped (on access or by prune): an entry that still owes something (unused
   * allowance, unsent counts) is settled rather than silently lost. */
  onExpire?: (key: string, value: V) => void;
}

interface Slot<V> {
  value: V;
  expiresAtMs: number;
  bytes: number;
}

export class TtlLru<V> {
  private readonly map = new Map<string, Slot<V>>();
  private bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  private readonly opts: TtlLruOptions<V>;

  constructor(opts: TtlLruOptions<V>) {
    this.opts = opts;
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get maxEntries(): number {
    return this.opts.maxEntries;
  }

  /** Returns the live value and marks it recently used; counts a hit or a miss. */
  get(key: string): V | undefined {
    const v = this.peek(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  /** Like get, without counting. */
  peek(key: string): V | undefined {
    const slot = this.map.get(key);
    if (!slot) return undefined;
    if (slot.expiresAtMs <= this.opts.clock.now()) {
      this.remove(key, slot);
      this.opts.onExpire?.(key, slot.value);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  set(key: string, value: V, ttlMs = this.opts.ttlMs): void {
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    const bytes = this.opts.sizeOf(key, value);
    this.map.set(key, { value, expiresAtMs: this.opts.clock.now() + ttlMs, bytes });
    this.bytes += bytes;
    while (this.map.size > this.opts.maxEntries || (this.bytes > this.opts.maxBytes && this.map.size > 1)) {
      const [k, slot] = this.map.entries().next().value as [string, Slot<V>];
      this.remove(k, slot);
      this.evictions++;
      this.opts.onEvict?.(k, slot.value);
    }
  }

  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot) this.remove(key, slot);
    return slot !== undefined;
  }

  /** Live entries, oldest first (expired ones are skipped, not removed). */
  *entries(): IterableIterator<[string, V]> {
    const now = this.opts.clock.now();
    for (const [k, slot] of this.map) if (slot.expiresAtMs > now) yield [k, slot.value];
  }

  /** Drops every expired entry (calling onExpire for each). */
  prune(): void {
    const now = this.opts.clock.now();
    for (const [k, slot] of [...this.map]) {
      if (slot.expiresAtMs > now) continue;
      this.remove(k, slot);
      this.opts.onExpire?.(k, slot.value);
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
  }

  private remove(key: string, slot: Slot<V>): void {
    this.map.delete(key);
    this.bytes -= slot.bytes;
  }
}
