// The next window's allowance is not fetched ahead while the store's circuit breaker is open: a store that is down
// only fails the call, and one that is slow can apply the grant after the isolate gave up on it, so the next window
// starts with its allowance counted in the store and held by nobody.
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import type { Plan } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the test drives the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { AcquireItem, AcquireResult } from "../store/store.ts";
import { Limiter } from "./limiter.ts";

/** 10 s before a minute boundary: the prefetch lead (5 s) starts at 12:00:55. */
const START = Date.UTC(2026, 10, 23, 12, 0, 50);

/** A memory store that can be taken down (calls reject at once) and counts acquire calls. */
class FlakyStore extends MemoryStore {
  down = false;
  acquires = 0;
  override async acquire(
    t: string,
    items: AcquireItem[],
    now: number,
    caller?: string,
  ): Promise<AcquireResult> {
    this.acquires++;
    if (this.down) throw new Error("store down");
    return super.acquire(t, items, now, caller);
  }
  override async ping(): Promise<void> {
    if (this.down) throw new Error("store down");
  }
}

const minute = compileLimit({ dimension: "requests", window: "minute", limit: 100 });
const planOf = (tenant: string): Plan => ({
  tenant,
  tier: "test",
  failure: "open",
  degradedShare: 0.1,
  limits: [minute],
});

describe("prefetch and the circuit breaker", () => {
  it("fetches nothing ahead while the breaker is open, and resumes once it closes", async () => {
    const clock = createFakeClock(START);
    const store = new FlakyStore();
    const metrics = new Metrics();
    const limiter = new Limiter({
      store,
      clock,
      metrics,
      cacheSize: 100,
      cacheTtlMs: 60_000,
      storeTimeoutMs: 60_000,
    });
    const pending: Array<Promise<unknown>> = [];
    const decide = async (plan: Plan) => {
      const d = await limiter.decide(plan, { requests: 1 }, (p) => pending.push(p));
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
      return d;
    };
    const steady = planOf("steady");
    // A steady tenant holds a lease for the rest of the window.
    for (let i = 0; i < 8; i++) {
      expect((await decide(steady)).allowed).toBe(true);
      clock.advance(500);
    }
    const prefetches = () => metrics.total("quotagate_store_calls_total", { op: "prefetch" });
    expect(prefetches()).toBe(0);
    // The store goes away; another tenant's refill fails and opens the breaker.
    store.down = true;
    expect(await decide(planOf("other"))).toMatchObject({ allowed: true, reason: "fail_open" });
    expect(limiter.breaker.state).toBe("open");
    const acquires = store.acquires;
    clock.set(START + 6_000); // inside the prefetch lead; this request's probe still finds the store down
    expect(await decide(steady)).toMatchObject({ allowed: true, reason: "ok", local: true });
    expect(prefetches()).toBe(0);
    expect(store.acquires).toBe(acquires);
    // The store is back: the next request's probe closes the breaker, and the one after fetches ahead again.
    store.down = false;
    clock.advance(1_000);
    await decide(steady);
    expect(limiter.breaker.state).toBe("closed");
    expect(await decide(steady)).toMatchObject({ allowed: true, local: true });
    expect(prefetches()).toBe(1);
  });
});
