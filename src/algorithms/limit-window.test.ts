// Window arithmetic shared by every limit kind: grant periods, retention, and the `w` of RateLimit-Policy.
import { describe, expect, it } from "vitest";
import type { LimitSpec, WindowSpec } from "../core/quota.ts";
import { grantPeriod, previousSlidingPeriodId, retentionEndMs, windowSec } from "./limit-window.ts";

const spec = (window: WindowSpec, limit = 10): LimitSpec => ({
  id: "requests:x",
  name: "requests-x",
  dimension: "requests",
  window,
  limit,
  mode: "enforce",
  sync: "strict",
});

const NOW = Date.parse("2026-11-23T12:47:05.250Z");

describe("grantPeriod", () => {
  it("a fixed window is its calendar period", () => {
    expect(grantPeriod(spec({ kind: "fixed", unit: "hour" }), NOW)).toEqual({
      id: "2026112312",
      startMs: Date.parse("2026-11-23T12:00:00Z"),
      endMs: Date.parse("2026-11-23T13:00:00Z"),
    });
  });

  it("a sliding window is its current bucket, `s<index>`", () => {
    const p = grantPeriod(spec({ kind: "sliding", sizeMs: 10_000 }), NOW);
    const index = Math.floor(NOW / 10_000);
    expect(p).toEqual({ id: `s${index}`, startMs: index * 10_000, endMs: (index + 1) * 10_000 });
    expect(previousSlidingPeriodId(10_000, NOW)).toBe(`s${index - 1}`);
    expect(grantPeriod(spec({ kind: "sliding", sizeMs: 10_000 }), p.startMs - 1).id).toBe(`s${index - 1}`);
  });

  it("a bucket has one open-ended period `b`, ending when a full refill would", () => {
    const p = grantPeriod(spec({ kind: "bucket", rate: 10, periodMs: 1_000, burst: 50 }), NOW);
    expect(p).toEqual({ id: "b", startMs: NOW, endMs: NOW + 5_000 });
  });
});

describe("retentionEndMs", () => {
  it("keeps a calendar period to its end plus the grace", () => {
    const l = spec({ kind: "fixed", unit: "minute" });
    const p = grantPeriod(l, NOW);
    expect(retentionEndMs(l, p, 1_000)).toBe(p.endMs + 1_000);
  });

  it("keeps a sliding bucket one more window (it is read as the previous bucket)", () => {
    const l = spec({ kind: "sliding", sizeMs: 30_000 });
    const p = grantPeriod(l, NOW);
    expect(retentionEndMs(l, p, 1_000)).toBe(p.endMs + 30_000 + 1_000);
  });
});

describe("windowSec", () => {
  it.each<[WindowSpec, number]>([
    [{ kind: "fixed", unit: "second" }, 1],
    [{ kind: "fixed", unit: "minute" }, 60],
    [{ kind: "fixed", unit: "hour" }, 3_600],
    [{ kind: "fixed", unit: "day" }, 86_400],
    [{ kind: "fixed", unit: "month" }, 30 * 86_400], // November
    [{ kind: "sliding", sizeMs: 90_000 }, 90],
    [{ kind: "sliding", sizeMs: 1_400 }, 1],
    [{ kind: "bucket", rate: 10, periodMs: 1_000, burst: 25 }, 3],
  ])("%j -> %i s", (window, w) => {
    expect(windowSec(spec(window), NOW)).toBe(w);
  });

  it("a month's w follows its length (February of a leap year)", () => {
    expect(windowSec(spec({ kind: "fixed", unit: "month" }), Date.parse("2028-02-10T00:00:00Z"))).toBe(
      29 * 86_400,
    );
  });
});
