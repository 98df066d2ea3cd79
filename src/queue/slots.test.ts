// The slot service against a store that fails: the tier's failure policy answers, and once the shared breaker is open
// no request waits on the store for its slots.
import { describe, expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../core/clock.ts";
import type { FailurePolicy, Plan } from "../core/quota.ts";
import { Breaker } from "../limiter/breaker.ts";
import { Metrics } from "../metrics/metrics.ts";
// biome-ignore lint/style/noRestrictedImports: the test runs the slot service on the memory store, made to fail
import { MemoryStore } from "../store/memory/memory-store.ts";
import { SlotService } from "./slots.ts";

const plan = (failure: FailurePolicy): Plan => ({
  tenant: "t",
  tier: "free",
  limits: [],
  failure,
  degradedShare: 0.1,
  concurrency: 2,
});

function service() {
  const clock = createFakeClock(Date.UTC(2026, 11, 2));
  const metrics = new Metrics();
  const store = new MemoryStore();
  let calls = 0;
  let down = true;
  const acquire = store.acquireSlots.bind(store);
  store.acquireSlots = (...args) => {
    calls++;
    return down ? Promise.reject(new Error("store down")) : acquire(...args);
  };
  const breaker = new Breaker({ clock, metrics, probeIntervalMs: 1_000 });
  const slots = new SlotService({
    store,
    clock,
    timers: createFakeTimers(clock),
    metrics,
    origin: null,
    ttlMs: 30_000,
    storeTimeoutMs: 1_000,
    breaker,
  });
  return {
    slots,
    breaker,
    calls: () => calls,
    recover() {
      down = false;
      breaker.success();
    },
  };
}

describe("SlotService while the store is away", () => {
  it("applies the failure policy: closed refuses, open and degraded admit without a slot", async () => {
    for (const [failure, expected] of [
      ["closed", { ok: false, scope: "store" }],
      ["open", { ok: true, hold: null }],
      ["degraded", { ok: true, hold: null }],
    ] as const) {
      const s = service();
      expect(await s.slots.acquire(plan(failure))).toEqual(expected);
    }
  });

  it("opens the shared breaker on a failure, then answers without calling the store until it closes", async () => {
    const s = service();
    await s.slots.acquire(plan("closed"));
    expect(s.breaker.allows()).toBe(false);
    expect(await s.slots.acquire(plan("closed"))).toEqual({ ok: false, scope: "store" });
    expect(s.calls()).toBe(1);
    s.recover();
    const back = await s.slots.acquire(plan("closed"));
    expect(back.ok && back.hold !== null).toBe(true);
    expect(s.calls()).toBe(2);
  });
});
