// The limiter through store outages: debts settled before the next grant, the circuit breaker (no waiting on a store
// known to be down, background probes, recovery), and the degraded mode's bounded share per isolate.
import { describe, expect, it } from "vitest";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { createFakeClock } from "../core/clock.ts";
import type { Decision, LimitSpec, Plan } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { AcquireItem, AcquireResult, FlushBatch } from "../store/store.ts";
import { Limiter } from "./limiter.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 5);

/** A memory store that can be taken down (every call rejects at once) and counts calls per operation. */
class FlakyStore extends MemoryStore {
  down = false;
  calls = { acquire: 0, flush: 0, ping: 0 };
  override async acquire(
    t: string,
    items: AcquireItem[],
    now: number,
    caller?: string,
  ): Promise<AcquireResult> {
    this.calls.acquire++;
    if (this.down) throw new Error("store down");
    return super.acquire(t, items, now, caller);
  }
  override async flush(batch: FlushBatch): Promise<number[]> {
    this.calls.flush++;
    if (this.down) throw new Error("store down");
    return super.flush(batch);
  }
  override async ping(): Promise<void> {
    this.calls.ping++;
    if (this.down) throw new Error("store down");
  }
}

function setup() {
  const clock = createFakeClock(START);
  const store = new FlakyStore();
  const metrics = new Metrics();
  const limiter = new Limiter({
    store,
    clock,
    metrics,
    cacheSize: 1_000,
    cacheTtlMs: 60_000,
    storeTimeoutMs: 60_000,
  });
  const pending: Array<Promise<unknown>> = [];
  const waitUntil = (p: Promise<unknown>) => {
    pending.push(p);
  };
  const decide = async (plan: Plan) => {
    const d = await limiter.decide(plan, { requests: 1 }, waitUntil);
    while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    return d;
  };
  return { clock, store, metrics, limiter, decide };
}

const minute = compileLimit({ dimension: "requests", window: "minute", limit: 100 });
const planOf = (failure: Plan["failure"], limits: LimitSpec[] = [minute], degradedShare = 0.1): Plan => ({
  tenant: "t_1",
  tier: "test",
  failure,
  degradedShare,
  limits,
});

async function recorded(store: MemoryStore, limit: LimitSpec, atMs: number): Promise<number> {
  const page = await store.scanUsage(limit, grantPeriod(limit, atMs).id, "0", 1_000);
  return page.entries.filter(([t]) => t === "t_1").reduce((s, [, n]) => s + n, 0);
}

const allowed = (ds: Decision[]) => ds.filter((d) => d.allowed).length;

describe("fail-open debts", () => {
  it("units admitted during an outage are settled before the next grant of the same window (never 109 of 100)", async () => {
    const { clock, store, limiter, decide } = setup();
    const plan = planOf("open");
    store.down = true;
    const during: Decision[] = [];
    for (let i = 0; i < 9; i++) during.push(await decide(plan));
    expect(allowed(during)).toBe(9);
    store.down = false;
    clock.advance(1_000); // the breaker's probe interval: the next request probes and finds the store back
    await decide(plan);
    const after: Decision[] = [];
    for (let i = 0; i < 150; i++) after.push(await decide(plan));
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, minute, START)).toBe(100);
    expect(9 + 1 + allowed(after)).toBe(100);
  });
});

describe("circuit breaker", () => {
  it("after a failure, requests that need the store are answered by the failure policy without calling it", async () => {
    const { clock, store, limiter, metrics, decide } = setup();
    const plan = planOf("closed");
    store.down = true;
    expect(await decide(plan)).toMatchObject({ allowed: false, reason: "store_unavailable" });
    expect(limiter.breaker.state).toBe("open");
    expect(metrics.total("quotagate_store_breaker_open")).toBe(1);
    const calls = store.calls.acquire;
    for (let i = 0; i < 20; i++) expect((await decide(plan)).reason).toBe("store_unavailable");
    expect(store.calls.acquire).toBe(calls);
    expect(store.calls.ping).toBe(0); // no probe before the interval
    clock.advance(1_000);
    await decide(plan); // probes in the background: still down
    expect(store.calls.ping).toBe(1);
    expect(limiter.breaker.state).toBe("open");
    store.down = false;
    await decide(plan); // within the interval: no second probe
    expect(store.calls.ping).toBe(1);
    clock.advance(1_000);
    await decide(plan); // this probe finds the store back: the breaker closes
    expect(limiter.breaker.state).toBe("closed");
    expect((await decide(plan)).reason).toBe("ok");
    expect(metrics.total("quotagate_store_breaker_transitions_total", { to: "closed" })).toBe(1);
  });

  it("flushes wait while the breaker is open; nothing owed is lost", async () => {
    const { clock, store, limiter, decide } = setup();
    const plan = planOf("open");
    store.down = true;
    for (let i = 0; i < 5; i++) await decide(plan);
    const flushes = store.calls.flush;
    clock.advance(30_000); // past the flush interval
    await decide(plan);
    expect(store.calls.flush).toBe(flushes);
    store.down = false;
    await limiter.flush({ returnAll: true });
    expect(await recorded(store, minute, START)).toBe(6);
  });
});

describe("degraded mode", () => {
  it("admits at most the tier's share of each limit per window per isolate while the store is away", async () => {
    const { clock, store, decide } = setup();
    const plan = planOf("degraded", [minute], 0.1);
    store.down = true;
    const ds: Decision[] = [];
    for (let i = 0; i < 30; i++) ds.push(await decide(plan));
    expect(allowed(ds)).toBe(10);
    expect(ds.at(-1)).toMatchObject({ allowed: false, reason: "degraded" });
    clock.advance(60_000); // the next minute: a new share
    const next: Decision[] = [];
    for (let i = 0; i < 30; i++) next.push(await decide(plan));
    expect(allowed(next)).toBe(10);
  });

  it("across isolates the over-admission stays within isolates x share x limit, and every unit is settled", async () => {
    const clock = createFakeClock(START);
    const store = new FlakyStore();
    const isolates = Array.from(
      { length: 4 },
      () =>
        new Limiter({
          store,
          clock,
          metrics: new Metrics(),
          cacheSize: 100,
          cacheTtlMs: 60_000,
          storeTimeoutMs: 60_000,
        }),
    );
    const plan = planOf("degraded", [minute], 0.25);
    const noop = () => {};
    let admitted = 0;
    for (let i = 0; i < 60; i++)
      admitted += (await isolates[i % 4]!.decide(plan, { requests: 1 }, noop)).allowed ? 1 : 0;
    store.down = true;
    for (let i = 0; i < 200; i++)
      admitted += (await isolates[i % 4]!.decide(plan, { requests: 1 }, noop)).allowed ? 1 : 0;
    // Before the outage at most the limit; during it each isolate at most 25 of 100.
    expect(admitted).toBeLessThanOrEqual(100 + 4 * 25);
    store.down = false;
    for (const l of isolates) await l.flush({ returnAll: true });
    expect(await recorded(store, minute, START)).toBe(admitted);
  });
});
