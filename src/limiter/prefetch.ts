// Prefetch: near the end of a calendar window, the next window's allowance is fetched in the background (waitUntil),
// so a steady tenant never waits for the store at the boundary. The grant is exact like any other.
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { BookCache } from "../cache/book-cache.ts";
import type { TenantBook } from "../cache/tenant-book.ts";
import type { LimitSpec, Need } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AcquireResult, Store } from "../store/store.ts";
import type { Breaker } from "./breaker.ts";
import type { WaitUntil } from "./flusher.ts";
import { type LeaseTiming, leaseItems } from "./lease-requests.ts";

export interface PrefetcherOptions {
  store: Store;
  books: BookCache;
  metrics: Metrics;
  timing: LeaseTiming;
  prefetchMs: number;
  /** This isolate's id in the sharer registry. */
  caller: () => string;
  /** True while a refill for the tenant is under way (it will bring what a prefetch would). */
  busy: (tenant: string) => boolean;
  /** While open, nothing is fetched ahead: a store that is down fails the call, and one that is slow may apply the
   * grant after the isolate gave up on it, leaving the next window's allowance counted but never spent. */
  breaker?: Breaker;
}

/** Only calendar windows are fetched ahead: a sliding window's next bucket depends on what the current one still
 * admits, and a bucket has no next period. */
const prefetchable = (l: LimitSpec) => l.sync === "strict" && l.window.kind === "fixed";

export class Prefetcher {
  private readonly o: PrefetcherOptions;
  private readonly running = new Set<string>();

  constructor(o: PrefetcherOptions) {
    this.o = o;
  }

  maybe(book: TenantBook, needs: Need[], now: number, waitUntil: WaitUntil): void {
    if (this.running.has(book.tenant) || this.o.busy(book.tenant) || this.o.breaker?.allows() === false)
      return;
    let boundary = Number.POSITIVE_INFINITY;
    for (const { limit } of needs) {
      if (!prefetchable(limit)) continue;
      const lease = book.lease(limit, now);
      if (!lease || lease.next) continue;
      const p = grantPeriod(limit, now);
      const lead = Math.min(this.o.prefetchMs, (p.endMs - p.startMs) / 10);
      if (p.endMs - now <= lead) boundary = Math.min(boundary, p.endMs);
    }
    if (boundary === Number.POSITIVE_INFINITY) return;
    const limits = needs.map((n) => n.limit).filter(prefetchable);
    // A long window that goes on past the boundary joins only when its lease runs low.
    const items = leaseItems(
      book,
      limits.map((limit) => ({ limit, min: 0 })),
      boundary,
      this.o.timing,
    ).filter((it) => {
      const lease = book.lease(it.limit, now);
      return !lease || lease.periodId !== grantPeriod(it.limit, boundary).id || lease.allowance < it.want;
    });
    if (items.length === 0) return;
    this.running.add(book.tenant);
    this.o.metrics.inc("quotagate_store_calls_total", { op: "prefetch" });
    const call = this.o.store.acquire(book.tenant, items, boundary, this.o.caller()).then(
      (res) =>
        this.absorb(
          book,
          items.map((it) => it.limit),
          res,
          now,
        ),
      () => {
        this.o.metrics.inc("quotagate_store_errors_total", { op: "prefetch" });
      },
    );
    waitUntil(call.finally(() => this.running.delete(book.tenant)));
  }

  /** A long window whose period goes on is topped up; a new period's allowance waits in `next` until roll(). */
  private absorb(book: TenantBook, limits: LimitSpec[], res: AcquireResult, now: number): void {
    if (!res.ok) return;
    this.o.metrics.inc("quotagate_lease_grants_total");
    res.items.forEach((g, i) => {
      const limit = limits[i]!;
      this.o.metrics.inc("quotagate_lease_units_granted_total", {}, g.granted);
      const current = book.leases.get(limit.id);
      if (current && current.periodId === g.periodId) {
        current.allowance += g.granted;
        current.storeAvailable = g.available;
        current.lastGrant = Math.max(current.lastGrant, g.granted);
      } else if (current && !current.next) {
        current.lastGrant = Math.max(current.lastGrant, g.granted);
        current.next = {
          periodId: g.periodId,
          allowance: g.granted,
          storeAvailable: g.available,
          resetAtMs: g.resetAtMs,
        };
      } else if (g.granted > 0) {
        book.owe({ tenant: book.tenant, limit, periodId: g.periodId, units: -g.granted });
      }
    });
    this.o.books.keep(book, now);
  }
}
