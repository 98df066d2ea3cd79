// The isolate's bounded set of tenant books: TTL + LRU over whole books, bounded in entries and bytes. A book that
// leaves (evicted, expired, or found detached when a request hands it back) settles what it holds and is handed over.
import type { Clock } from "../core/clock.ts";
import { TenantBook } from "./tenant-book.ts";
import { TtlLru } from "./ttl-lru.ts";

export interface BookCacheOptions {
  maxEntries: number;
  maxBytes: number;
  clock: Clock;
  /** How long a book outlives its last lease or async period: its leftovers must still reach a flush. */
  lingerMs: number;
  /** Receives a book that left the cache, settled: its `owed` holds everything it still owed the store. */
  onLeave: (book: TenantBook) => void;
}

export class BookCache {
  private readonly lru: TtlLru<TenantBook>;
  private readonly o: BookCacheOptions;

  constructor(o: BookCacheOptions) {
    this.o = o;
    const leave = (_k: string, book: TenantBook) => {
      book.settle(o.clock.now());
      o.onLeave(book);
    };
    this.lru = new TtlLru<TenantBook>({
      maxEntries: o.maxEntries,
      maxBytes: o.maxBytes,
      ttlMs: o.lingerMs,
      clock: o.clock,
      sizeOf: (_k, book) => book.bytes(),
      onEvict: leave,
      onExpire: leave,
    });
  }

  get size(): number {
    return this.lru.size;
  }

  get byteSize(): number {
    return this.lru.byteSize;
  }

  get maxEntries(): number {
    return this.lru.maxEntries;
  }

  /** The tenant's book, created empty when the isolate holds none. */
  open(tenant: string, now: number): TenantBook {
    const cur = this.lru.peek(tenant);
    if (cur) return cur;
    const book = new TenantBook(tenant);
    this.keep(book, now);
    return book;
  }

  /** The tenant's book when the isolate holds one (never creates). */
  peek(tenant: string): TenantBook | undefined {
    return this.lru.peek(tenant);
  }

  /**
   * Re-files a book after it changed (its horizon and size may have grown). A request that awaited the store may
   * hold a book that was evicted meanwhile: it goes back when the tenant has no other book, else it settles and is
   * handed over, so nothing it holds is lost or counted twice.
   */
  keep(book: TenantBook, now: number): void {
    const cur = this.lru.peek(book.tenant);
    if (cur !== undefined && cur !== book) {
      book.settle(now);
      this.o.onLeave(book);
      return;
    }
    // At least the linger: a book opened for a request must outlive the store round trip the request may await (a
    // book that expired meanwhile would be replaced, and the grant it receives handed back).
    this.lru.set(book.tenant, book, Math.max(this.o.lingerMs, book.horizon(now, this.o.lingerMs) - now));
  }

  /** Live books, least recently used first. */
  books(): IterableIterator<TenantBook> {
    return (function* (entries) {
      for (const [, b] of entries) yield b;
    })(this.lru.entries());
  }

  /** Drops expired books (each settles and is handed over). */
  prune(): void {
    this.lru.prune();
  }

  /** Forgets every book without settling (call after everything was returned and flushed). */
  clear(): void {
    this.lru.clear();
  }
}
