// The gate with a scripted quota service and the memory store's slots: the wait budget, refunds of requests refused
// for a slot, and a request admitted by its limits after waiting for them that queues behind slot waiters.
import { describe, expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../core/clock.ts";
import type { Decision, Plan, WaitRules } from "../core/quota.ts";
import type { Ruling } from "../limiter/quota-service.ts";
import { Metrics } from "../metrics/metrics.ts";
// biome-ignore lint/style/noRestrictedImports: the test runs the gate on the memory store's slots
import { MemoryStore } from "../store/memory/memory-store.ts";
import { type Admission, createGate, waitBudget } from "./admission.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 30);
const RULES: WaitRules = { maxMs: 60_000, defaultMs: 0, maxDepth: 100, weight: 1 };
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A quota service allowing `perMinute[tenant]` requests a calendar minute (default: plenty). */
function scriptedQuota(clock: { now(): number }, perMinute: Record<string, number>) {
  const used = new Map<string, number>();
  const refunds: Ruling[] = [];
  return {
    refunds,
    async rule(who: { tenant: string }): Promise<Ruling> {
      const now = clock.now();
      const minute = Math.floor(now / 60_000);
      const k = `${who.tenant}:${minute}`;
      const allowed = (used.get(k) ?? 0) < (perMinute[who.tenant] ?? 1_000);
      if (allowed) used.set(k, (used.get(k) ?? 0) + 1);
      const plan: Plan = {
        tenant: who.tenant,
        tier: "t",
        limits: [],
        failure: "open",
        degradedShare: 0.1,
        wait: RULES,
      };
      const decision: Decision = {
        allowed,
        reason: allowed ? "ok" : "limit",
        tenant: who.tenant,
        tier: "t",
        states: [],
        local: true,
        ...(allowed ? {} : { retryAtMs: (minute + 1) * 60_000 }),
      };
      return { plan, decision, needs: [], fromMs: now, toMs: now };
    },
    refund(r: Ruling) {
      refunds.push(r);
    },
  };
}

function harness(perMinute: Record<string, number> = {}) {
  const clock = createFakeClock(T0);
  const timers = createFakeTimers(clock);
  const store = new MemoryStore();
  const quota = scriptedQuota(clock, perMinute);
  const gate = createGate({
    quota,
    store,
    clock,
    timers,
    metrics: new Metrics(),
    storeTimeoutMs: 1_000,
    origin: { id: "origin", limit: 1 },
    slotTtlMs: 30_000,
    maxDepth: 100,
    recheckMs: 1_000,
  });
  const admit = async (tenant: string, preferWaitSec?: number) =>
    gate.admit({ who: { tenant }, cost: { requests: 1 }, waitUntil: () => undefined, preferWaitSec });
  return { clock, timers, store, quota, gate, admit };
}

describe("waitBudget", () => {
  it("grants the tier's default without Prefer, the preference up to the tier's bound, nothing without rules", () => {
    expect(waitBudget(undefined, 30)).toEqual({ ms: 0, applied: null });
    expect(waitBudget({ ...RULES, defaultMs: 5_000 }, undefined)).toEqual({ ms: 5_000, applied: null });
    expect(waitBudget(RULES, 20)).toEqual({ ms: 20_000, applied: 20 });
    expect(waitBudget(RULES, 3_600)).toEqual({ ms: 60_000, applied: 60 });
    expect(waitBudget(RULES, 0)).toEqual({ ms: 0, applied: 0 });
  });
});

describe("Gate", () => {
  it("refunds once a request its limits allowed but the origin's capacity refused", async () => {
    const h = harness();
    const first = await h.admit("a");
    expect(first).toMatchObject({ admitted: true, refusal: null });
    const refused = await h.admit("b");
    expect(refused).toMatchObject({
      admitted: false,
      refusal: { kind: "slot", scope: "origin", limit: 1 },
      retryAfterSec: 1,
    });
    expect(h.quota.refunds.map((r) => r.plan.tenant)).toEqual(["b"]);
    await first.hold!.release();
    expect((await h.admit("b")).admitted).toBe(true);
    expect(h.quota.refunds).toHaveLength(1);
  });

  it("queues a request its limits admit after a wait behind the requests already waiting for a slot", async () => {
    const h = harness({ late: 1 });
    // Late's one request of this minute holds the origin's only slot.
    const holder = await h.admit("late");
    const results = new Map<string, Admission>();
    const track = (tenant: string): void => {
      h.admit(tenant, 60).then(
        (a) => results.set(tenant, a),
        () => undefined,
      );
    };
    // "late" waits for the next minute (its limits: 12:01:00, in 30 s); "early", from 0.5 s on, for the only slot.
    track("late");
    await settle();
    h.timers.advance(500);
    track("early");
    await settle();
    expect(h.gate.snapshot().depth).toBe(2);
    h.timers.advance(29_000); // early's rechecks (every second from 1.5 s) find the slot held
    await settle();
    // Another isolate frees the slot (no release seen here): early's next recheck is at 30.5 s. The minute turns first.
    await h.store.releaseSlots([{ kind: "origin", id: "origin", limit: 1 }], holder.hold!.id);
    h.timers.advance(500);
    for (let i = 0; i < 4; i++) await settle();
    expect(results.size).toBe(0); // "late" is admitted by its limits, but queues behind "early" for the slot
    h.timers.advance(500);
    for (let i = 0; i < 4; i++) await settle();
    expect([...results.keys()]).toEqual(["early"]);
    expect(results.get("early")).toMatchObject({
      admitted: true,
      waited: { ms: 30_000, preferenceApplied: 60 },
    });
    await results.get("early")!.hold!.release();
    for (let i = 0; i < 4; i++) await settle();
    expect(results.get("late")).toMatchObject({ admitted: true, waited: { ms: 30_500 } });
  });
});
