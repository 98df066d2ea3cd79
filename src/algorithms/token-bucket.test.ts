// Token bucket in milli-units: refill, the burst cap, retryAt as the earliest fit, and the reported window.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BucketSpec,
  bucketAvailable,
  bucketRetryAt,
  bucketWindowSec,
  MILLI,
  refillBucket,
} from "./token-bucket.ts";

const T0 = Date.UTC(2026, 10, 23, 12);
const tenPerSec: BucketSpec = { kind: "bucket", rate: 10, periodMs: 1_000, burst: 20 };

describe("refillBucket", () => {
  it("a missing bucket starts full", () => {
    expect(refillBucket(tenPerSec, null, T0)).toEqual({ milli: 20 * MILLI, tsMs: T0 });
  });

  it("adds rate/period tokens per ms, floored to whole milli-units", () => {
    // 10/s = 10 milli per ms.
    expect(refillBucket(tenPerSec, { milli: 0, tsMs: T0 }, T0 + 250)).toEqual({
      milli: 2_500,
      tsMs: T0 + 250,
    });
    const slow: BucketSpec = { kind: "bucket", rate: 1, periodMs: 3_000, burst: 5 };
    // 1/3 milli per ms: 1000 ms -> 333.33 -> 333.
    expect(refillBucket(slow, { milli: 0, tsMs: T0 }, T0 + 1_000).milli).toBe(333);
  });

  it("never exceeds the burst", () => {
    expect(refillBucket(tenPerSec, { milli: 19_500, tsMs: T0 }, T0 + 100).milli).toBe(20 * MILLI);
    expect(refillBucket(tenPerSec, { milli: 0, tsMs: T0 }, T0 + 10 * 86_400_000).milli).toBe(20 * MILLI);
  });

  it("ignores a clock that went backwards", () => {
    expect(refillBucket(tenPerSec, { milli: 1_000, tsMs: T0 }, T0 - 5_000)).toEqual({
      milli: 1_000,
      tsMs: T0 - 5_000,
    });
  });

  it("stays within [0, burst] and never refills faster than the rate (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom(1, 1_000, 60_000, 3_600_000),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(),
        fc.nat(100_000_000),
        (rate, periodMs, burst, milliRaw, elapsed) => {
          const spec: BucketSpec = { kind: "bucket", rate, periodMs, burst };
          const milli = milliRaw % (burst * MILLI + 1);
          const s = refillBucket(spec, { milli, tsMs: T0 }, T0 + elapsed);
          expect(Number.isInteger(s.milli)).toBe(true);
          expect(s.milli).toBeGreaterThanOrEqual(milli);
          expect(s.milli).toBeLessThanOrEqual(burst * MILLI);
          expect(s.milli - milli).toBeLessThanOrEqual((elapsed * rate * MILLI) / periodMs);
        },
      ),
    );
  });
});

describe("bucketAvailable", () => {
  it("counts whole tokens", () => {
    expect(bucketAvailable({ milli: 2_999, tsMs: T0 })).toBe(2);
    expect(bucketAvailable({ milli: 0, tsMs: T0 })).toBe(0);
  });
});

describe("bucketRetryAt", () => {
  it("is the state's time when the tokens are there", () => {
    expect(bucketRetryAt(tenPerSec, { milli: 5_000, tsMs: T0 }, 5)).toBe(T0);
  });

  it("waits for the deficit at the refill rate, rounded up", () => {
    // 3 tokens missing at 10/s -> 300 ms.
    expect(bucketRetryAt(tenPerSec, { milli: 2_000, tsMs: T0 }, 5)).toBe(T0 + 300);
    // 1/3 milli per ms: 1000 milli missing -> 3000 ms.
    const slow: BucketSpec = { kind: "bucket", rate: 1, periodMs: 3_000, burst: 5 };
    expect(bucketRetryAt(slow, { milli: 0, tsMs: T0 }, 1)).toBe(T0 + 3_000);
    // 1 milli missing -> 3 ms (rounded up from 3).
    expect(bucketRetryAt(slow, { milli: 999, tsMs: T0 }, 1)).toBe(T0 + 3);
  });

  it("is the earliest instant at which the cost fits (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom(1, 7, 1_000, 60_000, 3_600_000),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(),
        fc.nat(),
        (rate, periodMs, burst, milliRaw, costRaw) => {
          const spec: BucketSpec = { kind: "bucket", rate, periodMs, burst };
          const state = { milli: milliRaw % (burst * MILLI + 1), tsMs: T0 };
          const cost = 1 + (costRaw % burst);
          const t = bucketRetryAt(spec, state, cost);
          expect(t).toBeGreaterThanOrEqual(T0);
          expect(bucketAvailable(refillBucket(spec, state, t))).toBeGreaterThanOrEqual(cost);
          if (t > T0) expect(bucketAvailable(refillBucket(spec, state, t - 1))).toBeLessThan(cost);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe("bucketWindowSec", () => {
  it("is the time a full refill takes, at least 1 s", () => {
    expect(bucketWindowSec(tenPerSec)).toBe(2);
    expect(bucketWindowSec({ kind: "bucket", rate: 100, periodMs: 1_000, burst: 10 })).toBe(1);
    expect(bucketWindowSec({ kind: "bucket", rate: 1, periodMs: 60_000, burst: 5 })).toBe(300);
  });
});
