// The Limiter over a MemoryStore and a fake clock: exact limits, the hot path, denial caching, all-or-nothing costs,
// shadow and async limits, fail-open/closed, flush settlement, plan caching and a bounded cache.
import { afterEach, describe, expect, it, vi } from "vitest";
import { calendarPeriod } from "../algorithms/calendar-window.ts";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { createFakeClock, type FakeClock } from "../core/clock.ts";
import type { Cost, Decision, LimitMode, LimitSpec, Plan, SyncMode } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
import { parseConfig } from "../policy/config.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { AcquireItem, AcquireResult, FlushBatch, Store } from "../store/store.ts";
import { Limiter, type LimiterOptions } from "./limiter.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 0);

/** A store that counts calls per operation and can be taken down (every call rejects) and brought back. */
class FlakyStore extends MemoryStore {
  down = false;
  calls = { acquire: 0, flush: 0, read: 0, getTenant: 0 };

  override async acquire(
    tenant: string,
    items: AcquireItem[],
    nowMs: number,
    caller?: string,
  ): Promise<AcquireResult> {
    this.calls.acquire++;
    if (this.down) throw new Error("store down");
    return super.acquire(tenant, items, nowMs, caller);
  }

  override async flush(batch: FlushBatch): Promise<number[]> {
    this.calls.flush++;
    if (this.down) throw new Error("store down");
    return super.flush(batch);
  }
}

/** Collects what a request hands to ctx.waitUntil, and awaits all of it (including what those schedule). */
function waitUntilCollector() {
  const pending: Array<Promise<unknown>> = [];
  return {
    waitUntil: (p: Promise<unknown>) => {
      pending.push(p);
    },
    async settle() {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    },
  };
}

function setup(opts: Partial<LimiterOptions> & { clock?: FakeClock; store?: Store } = {}) {
  const clock = opts.clock ?? createFakeClock(START);
  const store = opts.store ?? new FlakyStore();
  const limiter = new Limiter({
    store,
    clock,
    metrics: new Metrics(),
    cacheSize: 1_000,
    cacheTtlMs: 60_000,
    storeTimeoutMs: 60_000,
    ...opts,
  });
  const w = waitUntilCollector();
  const decide = async (plan: Plan, cost: Cost = { requests: 1 }) => {
    const d = await limiter.decide(plan, cost, w.waitUntil);
    await w.settle();
    return d;
  };
  return { clock, store, limiter, decide, ...w };
}

const limitOf = (
  window: string,
  limit?: number,
  extra: { dimension?: string; mode?: LimitMode; sync?: SyncMode } = {},
): LimitSpec => compileLimit({ window, ...(limit === undefined ? {} : { limit }), ...extra });

const planOf = (
  limits: LimitSpec[],
  tenant = "t_1",
  failure: Plan["failure"] = "open",
  degradedShare = 0.1,
): Plan => ({
  tenant,
  tier: "test",
  degradedShare,
  limits,
  failure,
});

const freePlan = (tenant = "t_free") =>
  parseConfig({ ORIGIN_URL: "https://origin.test" }).policy.plan(tenant, "free");

/** Units the store records for a tenant in the period of `limit` that holds `atMs`. */
async function recorded(store: Store, tenant: string, limit: LimitSpec, atMs: number): Promise<number> {
  const periodId = grantPeriod(limit, atMs).id;
  let cursor = "0";
  let units = 0;
  do {
    const page = await store.scanUsage(limit, periodId, cursor, 100);
    for (const [t, n] of page.entries) if (t === tenant) units += n;
    cursor = page.cursor;
  } while (cursor !== "0");
  return units;
}

const allowedCount = (ds: Decision[]) => ds.filter((d) => d.allowed).length;

afterEach(() => {
  vi.useRealTimers();
});

describe("Limiter: exact limits", () => {
  it("admits exactly 100 of 150 requests of a free tenant in one minute", async () => {
    const { clock, store, limiter, decide } = setup();
    const plan = freePlan();
    const decisions: Decision[] = [];
    for (let i = 0; i < 150; i++) {
      decisions.push(await decide(plan));
      clock.advance(300); // 150 requests over 45 s
    }
    expect(allowedCount(decisions)).toBe(100);
    expect(decisions.slice(0, 100).every((d) => d.allowed && d.reason === "ok")).toBe(true);
    expect(decisions.slice(100).every((d) => !d.allowed && d.reason === "limit")).toBe(true);
    await limiter.flush({ returnAll: true });
    const [minute, day] = plan.limits;
    expect(await recorded(store, "t_free", minute!, START)).toBe(100);
    expect(await recorded(store, "t_free", day!, START)).toBe(100);
  });

  it("admits exactly 100 of 150 concurrent requests (interleaved at every await)", async () => {
    const { store, limiter, waitUntil, settle } = setup();
    const plan = freePlan();
    const decisions = await Promise.all(
      Array.from({ length: 150 }, () => limiter.decide(plan, { requests: 1 }, waitUntil)),
    );
    await settle();
    expect(allowedCount(decisions)).toBe(100);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_free", plan.limits[0]!, START)).toBe(100);
  });

  it("the next minute admits again, up to the daily limit", async () => {
    const { clock, decide } = setup();
    const plan = freePlan();
    const perMinute: number[] = [];
    for (let m = 0; m < 12; m++) {
      const ds: Decision[] = [];
      for (let i = 0; i < 120; i++) ds.push(await decide(plan));
      perMinute.push(allowedCount(ds));
      clock.advance(60_000);
    }
    expect(perMinute).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0, 0]);
  });

  it("decides from allowance held in the isolate without store calls (the hot path)", async () => {
    const { store, decide } = setup();
    const plan = planOf([limitOf("hour", 1_000)]);
    const first = await decide(plan);
    expect(first.local).toBe(false);
    const calls = (store as FlakyStore).calls.acquire;
    const next = await decide(plan);
    expect(next).toMatchObject({ allowed: true, local: true });
    expect((store as FlakyStore).calls.acquire).toBe(calls);
  });

  it("reports remaining within [0, limit] and the reset of the window", async () => {
    const { decide } = setup();
    const plan = planOf([limitOf("minute", 3)]);
    const ds: Decision[] = [];
    for (let i = 0; i < 5; i++) ds.push(await decide(plan));
    for (const d of ds) {
      const s = d.states[0]!;
      expect(s.remaining).toBeGreaterThanOrEqual(0);
      expect(s.remaining).toBeLessThanOrEqual(3);
      expect(s.resetAtMs).toBe(calendarPeriod("minute", START).endMs);
    }
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(ds[2]!.states[0]!.remaining).toBe(0);
    expect(ds[3]!.retryAtMs).toBe(calendarPeriod("minute", START).endMs);
  });
});

describe("Limiter: denial caching", () => {
  it("a cached denial answers without a store call until the window resets", async () => {
    const { clock, store, decide } = setup();
    const plan = planOf([limitOf("minute", 2)]);
    await decide(plan);
    await decide(plan);
    const first = await decide(plan);
    expect(first).toMatchObject({ allowed: false, reason: "limit", local: false });
    const calls = (store as FlakyStore).calls.acquire;
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      const d = await decide(plan);
      expect(d).toMatchObject({ allowed: false, reason: "limit", local: true });
      expect(d.retryAtMs).toBe(calendarPeriod("minute", START).endMs);
    }
    expect((store as FlakyStore).calls.acquire).toBe(calls);
    clock.set(calendarPeriod("minute", START).endMs);
    expect(await decide(plan)).toMatchObject({ allowed: true });
  });

  it("a cached denial lasts at most the cache TTL (other isolates may return allowance)", async () => {
    const { clock, store, decide } = setup({ cacheTtlMs: 5_000 });
    const plan = planOf([limitOf("hour", 1)]);
    await decide(plan);
    await decide(plan);
    const calls = (store as FlakyStore).calls.acquire;
    clock.advance(4_999);
    await decide(plan);
    expect((store as FlakyStore).calls.acquire).toBe(calls);
    clock.advance(1);
    await decide(plan);
    expect((store as FlakyStore).calls.acquire).toBe(calls + 1);
  });

  it("a denial for a large cost does not deny a smaller one that fits", async () => {
    const { decide } = setup();
    const tokens = limitOf("minute", 100, { dimension: "tokens" });
    const plan = planOf([tokens]);
    expect((await decide(plan, { tokens: 70 })).allowed).toBe(true);
    expect((await decide(plan, { tokens: 40 })).allowed).toBe(false);
    // 30 tokens are left: a request for 30 fits and must not be refused by the cached denial.
    expect((await decide(plan, { tokens: 30 })).allowed).toBe(true);
    expect((await decide(plan, { tokens: 1 })).allowed).toBe(false);
  });
});

describe("Limiter: costs over several dimensions", () => {
  const requests = limitOf("minute", 10);
  const tokens = limitOf("minute", 100, { dimension: "tokens" });
  const plan = planOf([requests, tokens]);

  it("a request with cost > 1 spends its cost on each dimension", async () => {
    const { store, limiter, decide } = setup();
    expect((await decide(plan, { requests: 1, tokens: 40 })).allowed).toBe(true);
    expect((await decide(plan, { requests: 1, tokens: 40 })).allowed).toBe(true);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", requests, START)).toBe(2);
    expect(await recorded(store, "t_1", tokens, START)).toBe(80);
  });

  it("is all-or-nothing: denied by one limit, it consumes none of the others", async () => {
    const { store, limiter, decide } = setup();
    await decide(plan, { requests: 1, tokens: 90 });
    const d = await decide(plan, { requests: 1, tokens: 20 });
    expect(d).toMatchObject({ allowed: false, reason: "limit" });
    expect(d.states.map((s) => [s.limit.dimension, s.cost])).toEqual([
      ["requests", 1],
      ["tokens", 20],
    ]);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", requests, START)).toBe(1);
    expect(await recorded(store, "t_1", tokens, START)).toBe(90);
  });

  it("limits of dimensions the request does not cost are not touched", async () => {
    const { store, limiter, decide } = setup();
    for (let i = 0; i < 15; i++) await decide(plan, { tokens: 5 });
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", requests, START)).toBe(0);
    expect(await recorded(store, "t_1", tokens, START)).toBe(75);
  });

  it("a cost above the limit is denied and consumes nothing", async () => {
    const { store, limiter, decide } = setup();
    expect((await decide(plan, { requests: 1, tokens: 101 })).allowed).toBe(false);
    expect((await decide(plan, { requests: 1, tokens: 100 })).allowed).toBe(true);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", tokens, START)).toBe(100);
  });
});

describe("Limiter: shadow limits", () => {
  it("never deny, and count every admitted unit", async () => {
    const { store, limiter, decide } = setup();
    const enforced = limitOf("minute", 1_000);
    const shadow = limitOf("day", 5, { mode: "shadow" });
    const plan = planOf([enforced, shadow]);
    const ds: Decision[] = [];
    for (let i = 0; i < 20; i++) ds.push(await decide(plan, { requests: 2 }));
    expect(ds.every((d) => d.allowed && d.reason === "ok")).toBe(true);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", shadow, START)).toBe(40);
    expect(await recorded(store, "t_1", enforced, START)).toBe(40);
  });

  it("report the requests they would have denied (state and metric)", async () => {
    const { limiter, decide } = setup();
    const shadow = limitOf("day", 5, { mode: "shadow" });
    const plan = planOf([limitOf("minute", 1_000), shadow]);
    const flags: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      const d = await decide(plan);
      expect(d.allowed).toBe(true);
      flags.push(d.states.find((s) => s.limit === shadow)!.exceeded);
    }
    // Units 6, 7 and 8 are past the shadow limit of 5.
    expect(flags).toEqual([false, false, false, false, false, true, true, true]);
    expect(limiter.metrics.total("quotagate_shadow_denials_total")).toBe(3);
  });

  it("are not counted when an enforced limit denies", async () => {
    const { store, limiter, decide } = setup();
    const plan = planOf([limitOf("minute", 3), limitOf("day", 100, { mode: "shadow" })]);
    for (let i = 0; i < 10; i++) await decide(plan);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", plan.limits[1]!, START)).toBe(3);
  });
});

describe("Limiter: async limits", () => {
  const asyncLimit = limitOf("minute", 5, { sync: "async" });

  it("decide locally and sync their counts on flush", async () => {
    const { store, limiter, decide } = setup();
    const plan = planOf([asyncLimit]);
    const ds: Decision[] = [];
    for (let i = 0; i < 8; i++) ds.push(await decide(plan));
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(ds.every((d) => d.local)).toBe(true);
    expect((store as FlakyStore).calls.acquire).toBe(0);
    await limiter.flush();
    expect(await recorded(store, "t_1", asyncLimit, START)).toBe(5);
  });

  it("over-admit across isolates only until they sync (the documented bound)", async () => {
    const store = new FlakyStore();
    const clock = createFakeClock(START);
    const a = setup({ store, clock });
    const b = setup({ store, clock });
    const plan = planOf([asyncLimit]);
    const ds: Decision[] = [];
    for (let i = 0; i < 5; i++) ds.push(await a.decide(plan));
    await a.limiter.flush();
    // b has not synced yet: its first request is admitted on its local count, then its first sync teaches it the
    // global count.
    for (let i = 0; i < 5; i++) ds.push(await b.decide(plan));
    expect(allowedCount(ds)).toBe(6);
    await b.limiter.flush();
    expect(await recorded(store, "t_1", asyncLimit, START)).toBe(6);
  });
});

describe("Limiter: store failures", () => {
  it("fail-open admits with reason fail_open and settles the admitted units once the store is back", async () => {
    const { store, limiter, decide } = setup();
    const flaky = store as FlakyStore;
    const limit = limitOf("hour", 10);
    const plan = planOf([limit], "t_1", "open");
    expect((await decide(plan)).reason).toBe("ok"); // holds a lease now
    flaky.down = true;
    const during: Decision[] = [];
    for (let i = 0; i < 15; i++) during.push(await decide(plan, { requests: 1 }));
    expect(during.every((d) => d.allowed)).toBe(true);
    expect(during.some((d) => d.reason === "fail_open")).toBe(true);
    // Flushes fail during the outage; nothing is lost.
    await expect(limiter.flush()).resolves.toBeUndefined();
    flaky.down = false;
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", limit, START)).toBe(16);
    // Over the limit now: exact again.
    expect((await decide(plan)).allowed).toBe(false);
  });

  it("fail-closed denies with reason store_unavailable and records nothing", async () => {
    const { clock, store, limiter, decide } = setup();
    const flaky = store as FlakyStore;
    flaky.down = true;
    const limit = limitOf("hour", 10);
    const d = await decide(planOf([limit], "t_1", "closed"));
    expect(d).toMatchObject({ allowed: false, reason: "store_unavailable", retryAtMs: clock.now() + 1_000 });
    flaky.down = false;
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", limit, START)).toBe(0);
  });

  it("a store that answers after the timeout: fail-open, and the late grant is given back", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const inner = new MemoryStore();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = Object.assign(Object.create(inner) as MemoryStore, {
      acquire: async (...args: Parameters<MemoryStore["acquire"]>) => {
        await gate;
        return inner.acquire(...args);
      },
    });
    const { limiter, waitUntil, settle } = setup({ store: slow, storeTimeoutMs: 100 });
    const limit = limitOf("hour", 10);
    const pending = limiter.decide(planOf([limit]), { requests: 1 }, waitUntil);
    await vi.advanceTimersByTimeAsync(100);
    const d = await pending;
    expect(d).toMatchObject({ allowed: true, reason: "fail_open" });
    release();
    await settle();
    await limiter.flush({ returnAll: true });
    expect(await recorded(inner, "t_1", limit, START)).toBe(1);
  });
});

describe("Limiter: flush", () => {
  it("returns unused allowance so that recorded usage equals admitted units", async () => {
    const { store, limiter, decide } = setup();
    const limit = limitOf("hour", 10_000);
    const plan = planOf([limit]);
    for (let i = 0; i < 7; i++) await decide(plan);
    // Leases hold more than was spent...
    expect(await recorded(store, "t_1", limit, START)).toBeGreaterThan(7);
    await limiter.flush({ returnAll: true });
    // ...and go back on flush.
    expect(await recorded(store, "t_1", limit, START)).toBe(7);
    expect(limiter.snapshot().pendingDeltas).toBe(0);
  });

  it("returns idle leases that matter to what is left at a periodic flush, without returnAll", async () => {
    const { clock, store, decide } = setup({ leaseIdleMs: 30_000, flushIntervalMs: 10_000 });
    const limit = limitOf("day", 100);
    await decide(planOf([limit], "t_idle"));
    clock.advance(31_000);
    await decide(planOf([limit], "t_other")); // a request of someone else carries the flush
    expect(await recorded(store, "t_idle", limit, START)).toBe(1);
  });

  it("returns a lease of an ended period to that period", async () => {
    const { clock, store, limiter, decide } = setup();
    const limit = limitOf("minute", 1_000);
    const plan = planOf([limit]);
    for (let i = 0; i < 3; i++) await decide(plan);
    clock.advance(60_000);
    for (let i = 0; i < 2; i++) await decide(plan);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", limit, START)).toBe(3);
    expect(await recorded(store, "t_1", limit, START + 60_000)).toBe(2);
  });

  it("sends fleet stats with the flush", async () => {
    const { store, limiter, decide } = setup();
    const plan = planOf([limitOf("minute", 1)]);
    await decide(plan);
    await decide(plan);
    await limiter.flush({ returnAll: true });
    const stats = await store.getStats(calendarPeriod("day", START).id);
    expect(stats).toMatchObject({ allowed: 1, denied: 1 });
  });
});

describe("Limiter: bounded cache", () => {
  it("stays within its entry and byte bounds with many tenants, and evicted leases are returned", async () => {
    const { store, limiter, decide } = setup({ cacheSize: 64, cacheBytes: 16_384 });
    const limit = limitOf("hour", 1_000);
    const admitted = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const tenant = `tenant-${i % 500}`;
      const d = await decide(planOf([limit], tenant));
      if (d.allowed) admitted.set(tenant, (admitted.get(tenant) ?? 0) + 1);
      expect(limiter.books.size).toBeLessThanOrEqual(64);
      expect(limiter.books.byteSize).toBeLessThanOrEqual(16_384);
    }
    expect([...admitted.values()].reduce((a, b) => a + b, 0)).toBe(2_000);
    await limiter.flush({ returnAll: true });
    for (const [tenant, n] of admitted) expect(await recorded(store, tenant, limit, START)).toBe(n);
  });
});

describe("Limiter: token buckets", () => {
  it("admit at most the burst at once, then the refill rate", async () => {
    const { clock, decide } = setup();
    const plan = planOf([limitOf("bucket:1/s,burst=10")]);
    const first: Decision[] = [];
    for (let i = 0; i < 15; i++) first.push(await decide(plan));
    expect(allowedCount(first)).toBe(10);
    clock.advance(3_000);
    const later: Decision[] = [];
    for (let i = 0; i < 15; i++) later.push(await decide(plan));
    expect(allowedCount(later)).toBe(3);
  });

  it("a lapsed lease's leftover tokens neither join the next grant nor go back late (the burst holds)", async () => {
    const { clock, decide } = setup();
    const plan = planOf([limitOf("bucket:1/s,burst=10")]);
    for (let i = 0; i < 4; i++) {
      await decide(plan);
      clock.advance(10); // a fast start grows the lease: the isolate holds tokens it has not spent
    }
    clock.advance(20_000); // the lease lapses with tokens left; the bucket refills to its burst
    const burst: Decision[] = [];
    for (let i = 0; i < 30; i++) burst.push(await decide(plan));
    expect(allowedCount(burst)).toBe(10);
  });
});

describe("Limiter: regressions (shrunk counterexamples of limiter.prop.test.ts)", () => {
  it("a lease idle past its cache TTL still gives its allowance back at the next flush", async () => {
    // Shrunk: one request on a 1000/second limit, 331 s of silence (past the lease's cache TTL), then a flush.
    const { clock, store, limiter, decide } = setup();
    const limit = limitOf("second", 1_000);
    await decide(planOf([limit]));
    expect(await recorded(store, "t_1", limit, START)).toBeGreaterThan(1); // the lease holds more
    clock.advance(331_000);
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, "t_1", limit, START)).toBe(1);
  });

  it("async counts idle past their cache TTL are still sent", async () => {
    const { clock, store, limiter, decide } = setup({ store: new FlakyStore() });
    const flaky = store as FlakyStore;
    const limit = limitOf("minute", 100, { sync: "async" });
    flaky.down = true; // the first sync fails: the counts stay unsent in the isolate
    for (let i = 0; i < 3; i++) await decide(planOf([limit]));
    flaky.down = false;
    clock.advance(3_600_000);
    await limiter.flush();
    expect(await recorded(store, "t_1", limit, START)).toBe(3);
  });

  it("async counts of a counter evicted during a failed flush are not lost", async () => {
    const inner = new FlakyStore();
    let release: () => void = () => {};
    let gated = false;
    const store = Object.assign(Object.create(inner) as FlakyStore, {
      flush: async (batch: FlushBatch) => {
        if (!gated) return inner.flush(batch);
        await new Promise<void>((r) => {
          release = r;
        });
        throw new Error("store down");
      },
    });
    const { limiter, decide } = setup({ store, cacheSize: 4 });
    const limit = limitOf("minute", 100, { sync: "async" });
    for (let i = 0; i < 3; i++) await decide(planOf([limit], "t_a"));
    gated = true;
    const flushing = limiter.flush();
    // Other tenants' books push t_a's counter out of the cache while the flush is in flight.
    for (let i = 0; i < 10; i++) limiter.books.open(`t_${i}`, START);
    release();
    await flushing;
    gated = false;
    await limiter.flush({ returnAll: true });
    expect(await recorded(inner, "t_a", limit, START)).toBe(3);
  });
});
