// Limiter.settle over a MemoryStore and a fake clock: a refund goes back into the lease (spendable with no store
// call), an overshoot spends the lease first and then refuses the tenant locally until the window has room, a
// settlement for a book the isolate no longer holds is still flushed, and a token bucket takes its delta in the store.
import { describe, expect, it } from "vitest";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { createFakeClock } from "../core/clock.ts";
import type { LimitSpec, Plan } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { AcquireItem, AcquireResult } from "../store/store.ts";
import { Limiter } from "./limiter.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 10);

class CountingStore extends MemoryStore {
  acquires = 0;
  override acquire(
    tenant: string,
    items: AcquireItem[],
    nowMs: number,
    caller?: string,
  ): Promise<AcquireResult> {
    this.acquires++;
    return super.acquire(tenant, items, nowMs, caller);
  }
}

function setup(limit: LimitSpec) {
  const clock = createFakeClock(START);
  const store = new CountingStore();
  const limiter = new Limiter({
    store,
    clock,
    metrics: new Metrics(),
    cacheSize: 100,
    cacheTtlMs: 60_000,
    storeTimeoutMs: 1_000,
  });
  const pending: Array<Promise<unknown>> = [];
  const plan: Plan = { tenant: "t", tier: "x", limits: [limit], failure: "open", degradedShare: 0.1 };
  const decide = async (tokens: number) => {
    const d = await limiter.decide(plan, { tokens }, (p) => pending.push(p));
    await Promise.all(pending.splice(0));
    return d;
  };
  const recorded = async (atMs = START) => {
    const page = await store.scanUsage(limit, grantPeriod(limit, atMs).id, "0", 10);
    return page.entries.find(([t]) => t === "t")?.[1] ?? 0;
  };
  const settle = (units: number, atMs = START) =>
    limiter.settle("t", limit, grantPeriod(limit, atMs).id, units);
  return { clock, store, limiter, plan, decide, recorded, settle };
}

const tokensPerMinute = (limit: number) => compileLimit({ dimension: "tokens", window: "minute", limit });

describe("Limiter.settle", () => {
  it("a refund goes back into the lease: spendable at once, with no store call", async () => {
    const { store, limiter, decide, recorded, settle } = setup(tokensPerMinute(100));
    expect((await decide(100)).allowed).toBe(true);
    const calls = store.acquires;
    expect((await decide(1)).allowed).toBe(false);
    settle(-60);
    const again = await decide(60);
    expect(again.allowed).toBe(true);
    expect(again.local).toBe(true);
    expect(store.acquires).toBe(calls + 1);
    await limiter.flush({ returnAll: true });
    expect(await recorded()).toBe(100);
  });

  it("an overshoot spends the lease, then refuses the tenant locally until the window has room", async () => {
    const { clock, store, limiter, plan, decide, recorded, settle } = setup(tokensPerMinute(1_000));
    expect((await decide(100)).allowed).toBe(true);
    settle(1_400);
    const calls = store.acquires;
    const refused = await decide(1);
    expect(refused).toMatchObject({ allowed: false, reason: "limit", local: true });
    expect(refused.states[0]).toMatchObject({ remaining: 0, exceeded: true });
    expect(refused.retryAtMs).toBe(Date.UTC(2026, 10, 23, 12, 1, 0));
    expect(store.acquires).toBe(calls);
    expect((await limiter.status(plan))[0]).toMatchObject({ remaining: 0 });
    await limiter.flush({ returnAll: true });
    expect(await recorded()).toBe(1_500);
    clock.set(Date.UTC(2026, 10, 23, 12, 1, 0));
    expect((await decide(1)).allowed).toBe(true);
  });

  it("an overshoot that leaves room refuses only what no longer fits", async () => {
    const { limiter, decide, recorded, settle } = setup(tokensPerMinute(1_000));
    expect((await decide(100)).allowed).toBe(true);
    await limiter.flush({ returnAll: true });
    expect(await recorded()).toBe(100);
    expect((await decide(100)).allowed).toBe(true);
    settle(600);
    expect((await decide(300)).allowed).toBe(false);
    expect((await decide(200)).allowed).toBe(true);
    await limiter.flush({ returnAll: true });
    expect(await recorded()).toBe(1_000);
  });

  it("a settlement for a tenant whose book left the isolate is flushed all the same", async () => {
    const { limiter, decide, recorded, settle } = setup(tokensPerMinute(1_000));
    expect((await decide(300)).allowed).toBe(true);
    await limiter.clear();
    settle(-200);
    settle(50);
    await limiter.flush({ returnAll: true });
    expect(await recorded()).toBe(150);
  });

  it("a token bucket takes the delta in the store (a held lease would lapse)", async () => {
    const bucket = compileLimit({ dimension: "tokens", window: "bucket:1/s,burst=100" });
    const { limiter, decide, settle } = setup(bucket);
    expect((await decide(80)).allowed).toBe(true);
    settle(-70);
    await limiter.flush({ returnAll: true });
    expect((await decide(85)).allowed).toBe(true);
  });
});
