// The dashboard's per-isolate figures: per-minute differences of the counters credited to the minute their requests
// arrived in, empty minutes as zeros, a bounded history; and the bounded top-k tenant rankings.
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import { Activity } from "./activity.ts";
import { Metrics } from "./metrics.ts";
import { TopK } from "./top-k.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function setup(minutes = 60) {
  const metrics = new Metrics();
  const clock = createFakeClock(T0 + 5_000);
  const activity = new Activity({ metrics, clock, minutes, topCapacity: 3 });
  /** A request as the middleware sees it: sampled on arrival, then counted. */
  const request = (outcome: "allowed" | "denied", opts: { store?: boolean; shadow?: boolean } = {}) => {
    activity.sample();
    metrics.inc("quotagate_decisions_total", { outcome, reason: outcome === "allowed" ? "ok" : "limit" });
    if (opts.shadow) metrics.inc("quotagate_shadow_denials_total");
    if (opts.store) {
      metrics.inc("quotagate_store_calls_total", { op: "acquire" });
      metrics.inc("quotagate_store_commands_total", { op: "acquire" }, 4);
      metrics.observe("quotagate_store_latency_seconds", 0.004, { op: "acquire" });
    }
  };
  return { metrics, clock, activity, request };
}

describe("Activity.minutes", () => {
  it("credits each minute with its own requests, store calls and latency; empty minutes are zeros", () => {
    const { clock, activity, request } = setup();
    request("allowed", { store: true });
    request("allowed");
    request("denied", { shadow: true });
    request("allowed");
    clock.advance(120_000); // 12:02:05, nothing at 12:01
    request("denied");
    const m = activity.minutes(3);
    expect(m.map((x) => x.minute)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    expect(m[0]).toEqual({
      minute: T0,
      allowed: 3,
      denied: 1,
      shadowDenied: 1,
      denyBlocks: 0,
      storeCallsPerRequest: 0.25,
      storeCommandsPerRequest: 1,
      storeLatencyMs: 4,
    });
    expect(m[1]).toMatchObject({ allowed: 0, denied: 0, storeLatencyMs: 0 });
    expect(m[2]).toMatchObject({ allowed: 0, denied: 1 });
  });

  it("keeps a bounded history", () => {
    const { clock, activity, request } = setup(5);
    for (let i = 0; i < 20; i++) {
      request("allowed");
      clock.advance(60_000);
    }
    const m = activity.minutes(10);
    expect(m).toHaveLength(10);
    // Five past minutes and the current one are kept; older ones read as zeros.
    expect(m.map((x) => x.allowed)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
  });
});

describe("TopK", () => {
  it("ranks tenants with a bounded number of counters", () => {
    const top = new TopK(3);
    for (const [key, n] of [
      ["a", 5],
      ["b", 3],
      ["c", 1],
      ["d", 1],
      ["a", 2],
    ] as const)
      top.add(key, n);
    expect(top.size).toBe(3);
    const [first, second] = top.top(2);
    expect(first).toEqual({ key: "a", count: 7, error: 0 });
    expect(second).toEqual({ key: "b", count: 3, error: 0 });
    // "d" took the smallest counter ("c", 1): its count may be over by that much.
    expect(top.top(3)[2]).toEqual({ key: "d", count: 2, error: 1 });
  });

  it("ranks admitted and denied requests apart", () => {
    const { activity } = setup();
    activity.record("t1", true);
    activity.record("t1", true);
    activity.record("t2", false);
    expect(activity.top(5)).toEqual({
      usage: [{ key: "t1", count: 2, error: 0 }],
      denials: [{ key: "t2", count: 1, error: 0 }],
    });
  });
});
