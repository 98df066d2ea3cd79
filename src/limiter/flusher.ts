// The flusher: drains the books' owed deltas and async counts to the store in one round trip that rides on requests
// (Workers have no timers), with its schedule, batching, retry rule and the fleet stats derived from the metrics.
import { calendarPeriod } from "../algorithms/calendar-window.ts";
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { BookCache } from "../cache/book-cache.ts";
import type { AsyncCount, Lease, TenantBook } from "../cache/tenant-book.ts";
import type { Clock } from "../core/clock.ts";
import type { LimitSpec, UsageDelta } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Store } from "../store/store.ts";
import type { Breaker } from "./breaker.ts";
import { uncertain, withTimeout } from "./timeout.ts";

export type WaitUntil = (p: Promise<unknown>) => void;

export const FLEET_COUNTERS = [
  "allowed",
  "denied",
  "store_calls",
  "store_commands",
  "cache_hits",
  "cache_misses",
] as const;
export type FleetCounter = (typeof FLEET_COUNTERS)[number];
export type FleetCounts = Record<FleetCounter, number>;

/** The fleet counters as views of the isolate's metrics: a decision is counted once, where it is made. */
export function fleetCounts(m: Metrics): FleetCounts {
  const decisions = m.total("quotagate_decisions_total");
  const local = m.total("quotagate_local_decisions_total");
  return {
    allowed: m.total("quotagate_decisions_total", { outcome: "allowed" }),
    denied: m.total("quotagate_decisions_total", { outcome: "denied" }),
    store_calls: m.total("quotagate_store_calls_total"),
    store_commands: m.total("quotagate_store_commands_total"),
    cache_hits: local,
    cache_misses: decisions - local,
  };
}

export interface FlusherOptions {
  store: Store;
  books: BookCache;
  clock: Clock;
  metrics: Metrics;
  storeTimeoutMs: number;
  /** Flushes ride on requests at most this often. */
  flushIntervalMs: number;
  /** Fleet stats and returns to periods already over go at most this often (they change no decision). */
  lazyFlushIntervalMs: number;
  /** Unused allowance idle this long goes back at the next flush. */
  leaseIdleMs: number;
  /** While it is open, flushes wait (what is owed stays owed) rather than time out one after another. */
  breaker: Breaker;
}

/** A backlog this large goes out whole, at most once a second. */
const BACKLOG = 1_000;
const BACKLOG_CHECK_MS = 100;

/**
 * An idle lease goes back only when its units could matter to other isolates: when they are a noticeable part of
 * what the store had left. A lease far below what is left (a day limit's, mostly) stays until the tenant's book
 * leaves the cache (which settles it) or its period ends: returning it costs a command, and taking it again on the
 * tenant's next request another, for units no one else would miss.
 */
const worthReturning = (lease: Lease) => lease.allowance * IDLE_KEEP_RATIO >= lease.storeAvailable;
/** What is left in the store, as a multiple of an idle lease, above which the lease is kept. */
const IDLE_KEEP_RATIO = 64;

const deltaKey = (d: UsageDelta) => `${d.tenant}\u0000${d.limit.id}\u0000${d.periodId}`;

export class Flusher {
  private readonly o: FlusherOptions;
  /** Deltas of books that left the cache, and re-queued deltas whose book is gone. */
  private readonly orphans = new Map<string, UsageDelta>();
  private flushing: Promise<void> | null = null;
  private lastFlushAtMs: number;
  private lastLazyFlushAtMs: number;
  private soon = false;
  private backlogCheckedAtMs = Number.NEGATIVE_INFINITY;
  /** Fleet counters as last sent: the next stats flush sends the difference. */
  private sent: FleetCounts = {
    allowed: 0,
    denied: 0,
    store_calls: 0,
    store_commands: 0,
    cache_hits: 0,
    cache_misses: 0,
  };

  constructor(o: FlusherOptions) {
    this.o = o;
    this.lastFlushAtMs = o.clock.now();
    this.lastLazyFlushAtMs = this.lastFlushAtMs;
  }

  /** Takes over what a book that left the cache still owes. */
  adopt(book: TenantBook): void {
    for (const d of book.owed.values()) this.orphan(d);
    book.owed.clear();
  }

  /** An async window started: its first count syncs at once. */
  syncSoon(): void {
    this.soon = true;
  }

  /** Deltas waiting for a flush, in books and orphaned. */
  pending(): number {
    let n = this.orphans.size;
    for (const b of this.o.books.books()) n += b.owed.size;
    return n;
  }

  /** Orphaned units owed for (tenant, limit, period). */
  orphanFor(tenant: string, limit: LimitSpec, periodId: string): number {
    return this.orphans.get(deltaKey({ tenant, limit, periodId, units: 0 }))?.units ?? 0;
  }

  /** Owes a delta: to the tenant's book when the isolate holds one, else as an orphan. */
  owe(d: UsageDelta): void {
    const book = this.o.books.peek(d.tenant);
    if (book) book.owe(d);
    else this.orphan(d);
  }

  private orphan(d: UsageDelta): void {
    if (d.units === 0) return;
    const k = deltaKey(d);
    const cur = this.orphans.get(k);
    if (cur) cur.units += d.units;
    else this.orphans.set(k, { ...d });
  }

  maybeFlush(now: number, waitUntil: WaitUntil): void {
    if (this.flushing || !this.o.breaker.allows()) return;
    const since = now - this.lastFlushAtMs;
    if (this.soon || since >= this.o.flushIntervalMs || (since >= 1_000 && this.backlogged(now)))
      waitUntil(this.flush());
  }

  /** Whether a backlog is waiting. Counting it walks every book, too much for every request of a busy isolate: it is
   * counted at most every BACKLOG_CHECK_MS (a backlog goes out that much later at worst). */
  private backlogged(now: number): boolean {
    if (now - this.backlogCheckedAtMs < BACKLOG_CHECK_MS) return false;
    this.backlogCheckedAtMs = now;
    return this.pending() >= BACKLOG;
  }

  /**
   * Sends owed deltas, async counts and (lazily) fleet stats in one round trip. `returnAll` gives back every lease's
   * unused allowance and sends everything (cache clear, tests). Never loses a delta: a failed flush re-queues it.
   */
  flush(opts: { returnAll?: boolean } = {}): Promise<void> {
    if (this.flushing) return opts.returnAll ? this.flushing.then(() => this.flush(opts)) : this.flushing;
    this.flushing = this.run(opts.returnAll ?? false).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async run(returnAll: boolean): Promise<void> {
    const now = this.o.clock.now();
    this.lastFlushAtMs = now;
    this.soon = false;
    const lazyDue =
      returnAll || now - this.lastLazyFlushAtMs >= this.o.lazyFlushIntervalMs || this.pending() >= BACKLOG;
    const { deltas, counts } = this.collect(now, returnAll, lazyDue);
    const fleet = lazyDue ? fleetCounts(this.o.metrics) : undefined;
    const stats: Record<string, number> = {};
    if (fleet)
      for (const c of FLEET_COUNTERS) if (fleet[c] !== this.sent[c]) stats[c] = fleet[c] - this.sent[c];
    if (deltas.length === 0 && counts.length === 0 && Object.keys(stats).length === 0) return;
    this.o.metrics.inc("quotagate_store_calls_total", { op: "flush" });
    if (fleet) {
      // The flush counts itself.
      fleet.store_calls++;
      stats.store_calls = (stats.store_calls ?? 0) + 1;
      this.lastLazyFlushAtMs = now;
    }
    const started = Date.now();
    const asyncDeltas = counts.map(({ tenant, a }) => ({
      tenant,
      limit: a.limit,
      periodId: a.periodId,
      units: a.sending,
    }));
    try {
      const totals = await withTimeout(
        this.o.store.flush({
          deltas: [...deltas, ...asyncDeltas],
          ...(fleet ? { stats: { dayId: calendarPeriod("day", now).id, counts: stats } } : {}),
          nowMs: now,
        }),
        this.o.storeTimeoutMs * 2,
      );
      this.o.metrics.observe("quotagate_store_latency_seconds", (Date.now() - started) / 1000, {
        op: "flush",
      });
      counts.forEach(({ a }, i) => {
        a.known = totals[deltas.length + i] ?? a.known + a.sending;
        a.sending = 0;
      });
      if (fleet) this.sent = fleet;
      this.o.metrics.inc("quotagate_flushes_total", { outcome: "ok" });
      this.o.breaker.success();
    } catch (err) {
      this.o.metrics.inc("quotagate_store_errors_total", { op: "flush" });
      this.o.breaker.failure();
      this.o.metrics.inc("quotagate_flushes_total", { outcome: "error" });
      this.requeue(deltas, counts, uncertain(err));
    }
  }

  /** What this flush sends: owed deltas (those to periods already over only when the lazy flush is due), idle or
   * all leases' allowance, and every async count with unsent units or none known yet. */
  private collect(now: number, returnAll: boolean, lazyDue: boolean) {
    this.o.books.prune();
    const deltas: UsageDelta[] = [];
    const counts: Array<{ tenant: string; a: AsyncCount }> = [];
    const take = (owed: Map<string, UsageDelta>) => {
      for (const [k, d] of owed) {
        const over =
          d.units < 0 && d.limit.window.kind !== "bucket" && grantPeriod(d.limit, now).id !== d.periodId;
        if (lazyDue || !over) {
          if (d.units !== 0) deltas.push(d);
          owed.delete(k);
        }
      }
    };
    for (const book of this.o.books.books()) {
      book.roll(now);
      for (const lease of book.leases.values())
        if (returnAll || (now - lease.lastUsedMs >= this.o.leaseIdleMs && worthReturning(lease))) {
          const units = book.returnLease(lease, now, true);
          if (units > 0) this.o.metrics.inc("quotagate_lease_units_returned_total", {}, units);
        }
      for (const a of book.counts.values()) {
        if (a.sending > 0 || (a.unsynced === 0 && a.known > 0)) continue;
        a.sending = a.unsynced;
        a.unsynced = 0;
        counts.push({ tenant: book.tenant, a });
      }
      take(book.owed);
    }
    take(this.orphans);
    return { deltas, counts };
  }

  /**
   * After a failed flush. When the failure is uncertain (a timeout: the store may have applied the batch without
   * answering), re-sending a return could count it twice and under-count usage, so returns are dropped (at worst they
   * strand units) while positive deltas are re-sent (over-counting never over-admits). Otherwise all is re-sent.
   */
  private requeue(
    deltas: UsageDelta[],
    counts: Array<{ tenant: string; a: AsyncCount }>,
    unsure: boolean,
  ): void {
    for (const d of deltas) if (!unsure || d.units > 0) this.owe(d);
    for (const { tenant, a } of counts) {
      const live = this.o.books.peek(tenant)?.counts.get(a.limit.id) === a;
      if (live) a.unsynced += a.sending;
      else this.owe({ tenant, limit: a.limit, periodId: a.periodId, units: a.sending });
      a.sending = 0;
    }
  }
}
