// Lease behaviour that has no other test: a limit lowered while a lease is held, the flush throttle for large
// backlogs, and the smoothed rate that sizes the next lease.
import { describe, expect, it } from "vitest";
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { Lease } from "../cache/tenant-book.ts";
import { createFakeClock } from "../core/clock.ts";
import type { LimitSpec, Plan } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { FlushBatch } from "../store/store.ts";
import { rateOf } from "./lease-requests.ts";
import { Limiter } from "./limiter.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 5);
const hourly = (limit: number) => compileLimit({ dimension: "requests", window: "hour", limit });
const planOf = (limit: LimitSpec, tenant = "t_1"): Plan => ({
  tenant,
  tier: "test",
  failure: "open",
  degradedShare: 0.1,
  limits: [limit],
});

class CountingStore extends MemoryStore {
  batches: FlushBatch[] = [];
  override async flush(batch: FlushBatch): Promise<number[]> {
    this.batches.push(batch);
    return super.flush(batch);
  }
}

function setup() {
  const clock = createFakeClock(START);
  const store = new CountingStore();
  const limiter = new Limiter({
    store,
    clock,
    metrics: new Metrics(),
    cacheSize: 10_000,
    cacheTtlMs: 60_000,
    storeTimeoutMs: 60_000,
  });
  const pending: Array<Promise<unknown>> = [];
  const waitUntil = (p: Promise<unknown>) => {
    pending.push(p);
  };
  const settle = async () => {
    while (pending.length > 0) await Promise.allSettled(pending.splice(0));
  };
  const decide = async (plan: Plan) => {
    const d = await limiter.decide(plan, { requests: 1 }, waitUntil);
    await settle();
    return d;
  };
  return { clock, store, limiter, decide, waitUntil, settle };
}

async function recorded(store: MemoryStore, limit: LimitSpec, tenant = "t_1"): Promise<number> {
  const page = await store.scanUsage(limit, grantPeriod(limit, START).id, "0", 10_000);
  return page.entries.filter(([t]) => t === tenant).reduce((s, [, n]) => s + n, 0);
}

describe("a limit lowered while a lease is held", () => {
  it("is never spent past: the lease granted under the old amount goes back, the new one is exact", async () => {
    const { clock, store, limiter, decide } = setup();
    for (let i = 0; i < 30; i++) await decide(planOf(hourly(1_000)));
    expect(await recorded(store, hourly(1_000))).toBeGreaterThan(30); // the isolate holds a lease
    let admitted = 30;
    for (let i = 0; i < 40; i++) if ((await decide(planOf(hourly(35)))).allowed) admitted++;
    // Never past the new amount; the old lease's units go back with the next flush (not on the request path).
    expect(admitted).toBeLessThanOrEqual(35);
    await limiter.flush();
    clock.advance(60_000); // past the cached denial
    for (let i = 0; i < 40; i++) if ((await decide(planOf(hourly(35)))).allowed) admitted++;
    expect(admitted).toBe(35);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, hourly(35))).toBe(35);
  });
});

describe("the flush throttle", () => {
  it("a backlog of 1,000 deltas triggers one whole flush, at most one a second", async () => {
    const { clock, store, limiter, waitUntil, settle } = setup();
    const limit = hourly(10);
    const periodId = grantPeriod(limit, START).id;
    await limiter.flush(); // starts the interval clock
    const before = store.batches.length;
    for (let i = 0; i < 1_200; i++) limiter.flusher.owe({ tenant: `t${i}`, limit, periodId, units: 1 });
    clock.advance(500);
    limiter.flusher.maybeFlush(clock.now(), waitUntil);
    await settle();
    expect(store.batches.length).toBe(before); // under a second since the last flush
    clock.advance(500);
    limiter.flusher.maybeFlush(clock.now(), waitUntil);
    await settle();
    expect(store.batches.length).toBe(before + 1);
    expect(store.batches.at(-1)!.deltas).toHaveLength(1_200); // the whole backlog, not a slice
    expect(limiter.flusher.pending()).toBe(0);
  });
});

describe("the smoothed lease rate", () => {
  const lease = (over: Partial<Lease>): Lease => ({
    limit: hourly(1_000),
    periodId: "2026112312",
    validUntilMs: START + 3_600_000,
    allowance: 0,
    storeAvailable: 0,
    resetAtMs: 0,
    grantedAtMs: START,
    spentSinceGrant: 0,
    lastUsedMs: START,
    ratePerMs: 0,
    lastGrant: 0,
    next: undefined,
    ...over,
  });

  it("averages the pace since the last grant with the carried rate, so one burst does not size every lease", () => {
    expect(rateOf(lease({ spentSinceGrant: 100 }), START + 1_000)).toBeCloseTo(0.1);
    expect(rateOf(lease({ spentSinceGrant: 100, ratePerMs: 0.01 }), START + 1_000)).toBeCloseTo(0.055);
    // A burst right after a grant counts over at least 250 ms.
    expect(rateOf(lease({ spentSinceGrant: 50 }), START + 10)).toBeCloseTo(0.2);
    expect(rateOf(undefined, START)).toBe(0);
  });
});

describe("idle leases", () => {
  it("go back when they matter to what is left, and stay when far below it", async () => {
    const { clock, store, limiter, decide } = setup();
    const small = hourly(40);
    const large = { ...hourly(1_000_000), id: "requests:hour-large" };
    const plan: Plan = { ...planOf(small), limits: [small, large] };
    for (let i = 0; i < 6; i++) await decide(plan);
    const held = (l: LimitSpec) => limiter.books.peek("t_1")!.leases.get(l.id)!.allowance;
    expect(held(small)).toBeGreaterThan(0);
    expect(held(large)).toBeGreaterThan(0);
    const largeHeld = held(large);
    clock.advance(31_000);
    await limiter.flush();
    expect(held(small)).toBe(0);
    expect(await recorded(store, small)).toBe(6);
    // A few units of a million: kept for the tenant's next requests (the book settles it when it leaves).
    expect(held(large)).toBe(largeHeld);
    expect(await recorded(store, large)).toBe(6 + largeHeld);
  });
});
