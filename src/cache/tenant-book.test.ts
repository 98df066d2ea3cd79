// The tenant book: lookups never change it; roll() alone promotes prefetched periods, owes back stale or re-priced
// allowance and rolls async counts; and the book cache hands over what a book that leaves still owes.
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import type { LimitSpec } from "../core/quota.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
import { BookCache } from "./book-cache.ts";
import { type Lease, TenantBook } from "./tenant-book.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 30);
const minute = compileLimit({ dimension: "requests", window: "minute", limit: 100 });

function leaseOf(limit: LimitSpec, over: Partial<Lease> = {}): Lease {
  return {
    limit,
    periodId: "202611231200",
    validUntilMs: Date.UTC(2026, 10, 23, 12, 1),
    allowance: 10,
    storeAvailable: 50,
    resetAtMs: Date.UTC(2026, 10, 23, 12, 1),
    grantedAtMs: START,
    spentSinceGrant: 0,
    lastUsedMs: START,
    ratePerMs: 0,
    lastGrant: 10,
    next: undefined,
    ...over,
  };
}

const snapshot = (b: TenantBook) =>
  JSON.stringify([[...b.leases], [...b.denials], [...b.counts], [...b.owed]]);

describe("TenantBook", () => {
  it("lookups never mutate, even of a lease whose period is over", () => {
    const b = new TenantBook("t");
    b.leases.set(
      minute.id,
      leaseOf(minute, { next: { periodId: "202611231201", allowance: 5, storeAvailable: 1, resetAtMs: 0 } }),
    );
    b.deny(minute, { untilMs: START + 1, retryAtMs: START + 1, available: 0 });
    const before = snapshot(b);
    const later = START + 60_000;
    expect(b.lease(minute, later)).toBeUndefined();
    expect(b.denial(minute, later)).toBeUndefined();
    expect(b.count(minute, later)).toBeUndefined();
    expect(b.held(minute.id, "202611231201")).toBe(5);
    expect(snapshot(b)).toBe(before);
  });

  it("roll() promotes a prefetched next period and owes the old period's leftover", () => {
    const b = new TenantBook("t");
    b.leases.set(
      minute.id,
      leaseOf(minute, {
        next: {
          periodId: "202611231201",
          allowance: 7,
          storeAvailable: 20,
          resetAtMs: Date.UTC(2026, 10, 23, 12, 2),
        },
      }),
    );
    b.roll(START + 40_000);
    expect(b.lease(minute, START + 40_000)).toMatchObject({ periodId: "202611231201", allowance: 7 });
    expect(b.owedFor(minute, "202611231200")).toBe(-10);
  });

  it("roll() owes back a lease of a past period with nothing fetched ahead, and one granted under another amount", () => {
    const stale = new TenantBook("t");
    stale.leases.set(minute.id, leaseOf(minute));
    stale.roll(START + 120_000);
    expect(stale.owedFor(minute, "202611231200")).toBe(-10);
    expect(stale.leases.get(minute.id)!.allowance).toBe(0);

    const repriced = new TenantBook("t");
    repriced.leases.set(minute.id, leaseOf(minute));
    const lowered = { ...minute, limit: 20 };
    repriced.roll(START, { tenant: "t", tier: "x", failure: "open", degradedShare: 0.1, limits: [lowered] });
    expect(repriced.owedFor(minute, "202611231200")).toBe(-10);
    expect(repriced.lease(lowered, START)).toMatchObject({ allowance: 0 });
  });

  it("roll() owes the unsent counts of an async period that is over", () => {
    const b = new TenantBook("t");
    const asyncMinute = { ...minute, sync: "async" as const };
    expect(b.countAsync(asyncMinute, 3, START)).toBe(true);
    expect(b.countAsync(asyncMinute, 2, START)).toBe(false);
    b.roll(START + 60_000);
    expect(b.owedFor(asyncMinute, "202611231200")).toBe(5);
    expect(b.counts.size).toBe(0);
  });
});

describe("BookCache", () => {
  it("a book that is evicted settles and is handed over; a detached book handed back after another took its place too", () => {
    const clock = createFakeClock(START);
    const left: TenantBook[] = [];
    const cache = new BookCache({
      maxEntries: 1,
      maxBytes: 1 << 20,
      clock,
      lingerMs: 60_000,
      onLeave: (b) => left.push(b),
    });
    const a = cache.open("a", START);
    a.leases.set(minute.id, leaseOf(minute));
    cache.keep(a, START);
    cache.open("b", START); // evicts a
    expect(left).toEqual([a]);
    expect(a.owedFor(minute, "202611231200")).toBe(-10);

    const a2 = cache.open("a", START); // evicts b, a new book for a
    expect(a2).not.toBe(a);
    a.leases.get(minute.id)!.allowance = 4; // a request that awaited the store absorbs into the old book
    cache.keep(a, START);
    expect(cache.peek("a")).toBe(a2);
    expect(left.at(-1)).toBe(a);
    expect(a.owedFor(minute, "202611231200")).toBe(-14);
  });
});
