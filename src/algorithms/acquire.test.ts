// planAcquire / applyDelta on hand-picked states: all-or-nothing, shadow limits, leases, retryAt, clamping.
import { describe, expect, it } from "vitest";
import type { LimitSpec, WindowSpec } from "../core/quota.ts";
import { applyDelta, planAcquire, type SlotState } from "./acquire.ts";
import { calendarPeriod } from "./calendar-window.ts";
import { MILLI } from "./token-bucket.ts";

const NOW = Date.parse("2026-11-23T12:47:30Z");
const minuteEnd = calendarPeriod("minute", NOW).endMs;

const limit = (
  dimension: string,
  window: WindowSpec,
  amount: number,
  mode: "enforce" | "shadow" = "enforce",
) =>
  ({
    id: `${dimension}:${window.kind}`,
    name: dimension,
    dimension,
    window,
    limit: amount,
    mode,
    sync: "strict",
  }) satisfies LimitSpec;

const minute = (amount: number, mode: "enforce" | "shadow" = "enforce") =>
  limit("requests", { kind: "fixed", unit: "minute" }, amount, mode);
const counter = (cur: number, prev = 0): SlotState => ({ kind: "counter", prev, cur });

describe("planAcquire", () => {
  it("grants the want when it fits, and reports what is left", () => {
    const plan = planAcquire([{ limit: minute(100), min: 1, want: 20 }], [counter(50)], NOW);
    expect(plan.ok).toBe(true);
    expect(plan.items[0]).toEqual({
      granted: 20,
      available: 30,
      periodId: "202611231247",
      resetAtMs: minuteEnd,
      retryAtMs: minuteEnd,
      next: counter(70),
      dropsZero: false,
    });
  });

  it("shrinks the lease to what is left, but never below min", () => {
    const plan = planAcquire([{ limit: minute(100), min: 3, want: 20 }], [counter(95)], NOW);
    expect(plan.items[0]).toMatchObject({ granted: 5, available: 0, next: counter(100) });
  });

  it("is all-or-nothing: one enforced limit short of its min denies every item", () => {
    const tokens = limit("tokens", { kind: "fixed", unit: "day" }, 1_000);
    const plan = planAcquire(
      [
        { limit: minute(100), min: 1, want: 10 },
        { limit: tokens, min: 50, want: 50 },
      ],
      [counter(0), counter(960)],
      NOW,
    );
    expect(plan.ok).toBe(false);
    expect(plan.items.map((p) => p.granted)).toEqual([0, 0]);
    expect(plan.items.map((p) => p.next)).toEqual([counter(0), counter(960)]);
    expect(plan.items.map((p) => p.available)).toEqual([100, 40]);
    // Both were taken optimistically up to the refused one and given back: a field at 0 is left out.
    expect(plan.items.map((p) => p.dropsZero)).toEqual([true, true]);
    // The denying limit reports when it resets; the fitting one too.
    expect(plan.items[1]!.retryAtMs).toBe(calendarPeriod("day", NOW).endMs);
  });

  it("a shadow limit never denies, and counts the full want even past its limit", () => {
    const plan = planAcquire(
      [
        { limit: minute(10, "shadow"), min: 5, want: 5 },
        { limit: limit("tokens", { kind: "fixed", unit: "day" }, 1_000), min: 1, want: 1 },
      ],
      [counter(8), counter(0)],
      NOW,
    );
    expect(plan.ok).toBe(true);
    // 2 were left: the count passes the limit by 3, reported as available -3 (what it would have denied).
    expect(plan.items[0]).toMatchObject({ granted: 5, available: -3, next: counter(13) });
  });

  it("a shadow limit is not counted when an enforced one denies", () => {
    const plan = planAcquire(
      [
        { limit: minute(10, "shadow"), min: 1, want: 1 },
        { limit: limit("tokens", { kind: "fixed", unit: "day" }, 5), min: 6, want: 6 },
      ],
      [counter(0), counter(0)],
      NOW,
    );
    expect(plan.ok).toBe(false);
    expect(plan.items[0]!.next).toEqual(counter(0));
  });

  it("a cost above a fixed limit can never fit: retryAt is infinite", () => {
    const plan = planAcquire([{ limit: minute(10), min: 11, want: 11 }], [counter(0)], NOW);
    expect(plan.ok).toBe(false);
    expect(plan.items[0]!.retryAtMs).toBe(Number.POSITIVE_INFINITY);
  });

  it("a sliding window counts the previous bucket's weight", () => {
    const sliding = limit("requests", { kind: "sliding", sizeMs: 60_000 }, 100);
    // 30 s into the bucket: half of prev=100 still counts, so 50 are left.
    const plan = planAcquire([{ limit: sliding, min: 51, want: 51 }], [counter(0, 100)], NOW);
    expect(plan.ok).toBe(false);
    expect(plan.items[0]!.available).toBe(50);
    // 51 fit once 49 of prev remain weighted: ceil(100*(60000-e)/60000) <= 49 -> e >= 30600.
    expect(plan.items[0]!.retryAtMs).toBe(Date.parse("2026-11-23T12:47:30.600Z"));
  });

  it("a bucket starts full and is charged the grant in milli-units", () => {
    const bucket = limit("requests", { kind: "bucket", rate: 10, periodMs: 1_000, burst: 20 }, 20);
    const plan = planAcquire([{ limit: bucket, min: 1, want: 5 }], [{ kind: "bucket", state: null }], NOW);
    expect(plan.items[0]).toMatchObject({
      granted: 5,
      available: 15,
      periodId: "b",
      next: { kind: "bucket", state: { milli: 15 * MILLI, rem: 0, tsMs: NOW } },
    });
    const empty: SlotState = { kind: "bucket", state: { milli: 500, rem: 0, tsMs: NOW } };
    const denied = planAcquire([{ limit: bucket, min: 3, want: 3 }], [empty], NOW);
    expect(denied.ok).toBe(false);
    // 2.5 tokens missing at 10/s -> 250 ms.
    expect(denied.items[0]!.retryAtMs).toBe(NOW + 250);
  });
});

describe("applyDelta", () => {
  it("returns and records units on a counter, never below 0", () => {
    expect(applyDelta(minute(10), counter(7), -3, NOW)).toEqual(counter(4));
    expect(applyDelta(minute(10), counter(7), 5, NOW)).toEqual(counter(12));
    expect(applyDelta(minute(10), counter(2), -5, NOW)).toEqual(counter(0));
  });

  it("puts tokens back into a bucket, never above its burst, never below 0", () => {
    const bucket = limit("requests", { kind: "bucket", rate: 1, periodMs: 60_000, burst: 10 }, 10);
    const s = (milli: number): SlotState => ({ kind: "bucket", state: { milli, rem: 0, tsMs: NOW } });
    expect(applyDelta(bucket, s(2_000), -3, NOW)).toEqual(s(5_000));
    expect(applyDelta(bucket, s(9_000), -3, NOW)).toEqual(s(10_000));
    expect(applyDelta(bucket, s(2_000), 5, NOW)).toEqual(s(0));
  });
});
