// Token bucket in exact integer arithmetic: refill, the burst cap, retryAt as the earliest fit, and the reported window.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BucketSpec,
  type BucketState,
  bucketAvailable,
  bucketRetryAt,
  bucketWindowSec,
  MILLI,
  refillBucket,
  takeFromBucket,
} from "./token-bucket.ts";

const T0 = Date.UTC(2026, 10, 23, 12);
const tenPerSec: BucketSpec = { kind: "bucket", rate: 10, periodMs: 1_000, burst: 20 };
const at = (milli: number, tsMs = T0, rem = 0): BucketState => ({ milli, rem, tsMs });

describe("refillBucket", () => {
  it("a missing bucket starts full", () => {
    expect(refillBucket(tenPerSec, null, T0)).toEqual(at(20 * MILLI));
  });

  it("adds rate/period tokens per ms, carrying what falls below a milli-unit", () => {
    // 10/s = 10 milli per ms.
    expect(refillBucket(tenPerSec, at(0), T0 + 250)).toEqual(at(2_500, T0 + 250));
    const slow: BucketSpec = { kind: "bucket", rate: 1, periodMs: 3_000, burst: 5 };
    // 1/3 milli per ms: 1000 ms -> 333 1/3 milli: 333, and 1000/3000 of a milli carried.
    expect(refillBucket(slow, at(0), T0 + 1_000)).toEqual(at(333, T0 + 1_000, 1_000));
    expect(refillBucket(slow, at(333, T0 + 1_000, 1_000), T0 + 2_000)).toEqual(at(666, T0 + 2_000, 2_000));
    expect(refillBucket(slow, at(666, T0 + 2_000, 2_000), T0 + 3_000)).toEqual(at(1_000, T0 + 3_000));
  });

  it("never exceeds the burst", () => {
    expect(refillBucket(tenPerSec, at(19_500), T0 + 100)).toEqual(at(20 * MILLI, T0 + 100));
    expect(refillBucket(tenPerSec, at(0), T0 + 10 * 86_400_000).milli).toBe(20 * MILLI);
  });

  it("ignores a clock that went backwards", () => {
    expect(refillBucket(tenPerSec, at(1_000), T0 - 5_000)).toEqual(at(1_000, T0 - 5_000));
  });

  it("refills a slow bucket written every few seconds as if it were written once", () => {
    // 1 token a day is 1 milli-unit every 86.4 s: flooring at every write would never add anything.
    const daily: BucketSpec = { kind: "bucket", rate: 1, periodMs: 86_400_000, burst: 3 };
    let s = at(0);
    for (let t = T0 + 5_000; t <= T0 + 86_400_000; t += 5_000) s = refillBucket(daily, s, t);
    expect(bucketAvailable(s)).toBe(1);
    expect(s).toEqual(refillBucket(daily, at(0), s.tsMs));
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
          const s = refillBucket(spec, at(milli), T0 + elapsed);
          expect(Number.isInteger(s.milli)).toBe(true);
          expect(Number.isInteger(s.rem)).toBe(true);
          expect(s.rem).toBeGreaterThanOrEqual(0);
          expect(s.rem).toBeLessThan(periodMs);
          expect(s.milli).toBeGreaterThanOrEqual(milli);
          expect(s.milli).toBeLessThanOrEqual(burst * MILLI);
          expect(s.milli - milli).toBeLessThanOrEqual((elapsed * rate * MILLI) / periodMs);
        },
      ),
    );
  });

  it("does not depend on how often the bucket is brought up to date (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom(1, 7, 1_000, 10_000, 60_000, 86_400_000),
        fc.integer({ min: 1, max: 1_000 }),
        fc.nat(),
        fc.array(fc.nat(100_000), { minLength: 1, maxLength: 20 }),
        (rate, periodMs, burst, milliRaw, steps) => {
          const spec: BucketSpec = { kind: "bucket", rate, periodMs, burst };
          const start = at(milliRaw % (burst * MILLI + 1));
          let s = start;
          for (const d of steps) s = refillBucket(spec, s, s.tsMs + d);
          expect(s).toEqual(refillBucket(spec, start, s.tsMs));
        },
      ),
    );
  });
});

describe("takeFromBucket", () => {
  it("takes whole tokens and keeps the carried remainder", () => {
    expect(takeFromBucket(tenPerSec, at(3_500, T0, 7), 2)).toEqual(at(1_500, T0, 7));
  });

  it("never goes below 0 (a shadow limit may take more than is there)", () => {
    expect(takeFromBucket(tenPerSec, at(1_500, T0, 7), 2)).toEqual(at(0));
  });

  it("returns never fill it above its burst", () => {
    expect(takeFromBucket(tenPerSec, at(19_500, T0, 7), -1)).toEqual(at(20 * MILLI));
  });
});

describe("bucketAvailable", () => {
  it("counts whole tokens", () => {
    expect(bucketAvailable(at(2_999))).toBe(2);
    expect(bucketAvailable(at(0))).toBe(0);
  });
});

describe("bucketRetryAt", () => {
  it("is the state's time when the tokens are there", () => {
    expect(bucketRetryAt(tenPerSec, at(5_000), 5)).toBe(T0);
  });

  it("waits for the deficit at the refill rate, rounded up", () => {
    // 3 tokens missing at 10/s -> 300 ms.
    expect(bucketRetryAt(tenPerSec, at(2_000), 5)).toBe(T0 + 300);
    // 1/3 milli per ms: 1000 milli missing -> 3000 ms.
    const slow: BucketSpec = { kind: "bucket", rate: 1, periodMs: 3_000, burst: 5 };
    expect(bucketRetryAt(slow, at(0), 1)).toBe(T0 + 3_000);
    // 1 milli missing -> 3 ms; with 2/3 of a milli carried, only 1/3 is missing -> 1 ms.
    expect(bucketRetryAt(slow, at(999), 1)).toBe(T0 + 3);
    expect(bucketRetryAt(slow, at(999, T0, 2_000), 1)).toBe(T0 + 1);
  });

  it("is never when the cost exceeds the burst", () => {
    expect(bucketRetryAt(tenPerSec, at(0), 21)).toBe(Number.POSITIVE_INFINITY);
  });

  // Shrunk from the acquisition property test: 6 per 10 s, burst 1, emptied at T0 and looked at 6 ms and 54 ms
  // later. The token is whole at T0 + 1666 2/3 ms, so at T0 + 1667, whether or not the bucket was written at T0 + 6.
  // Flooring the refill to whole milli-units at each write answered T0 + 1668 (unwritten) or T0 + 1669 (written).
  it("answers the true instant a token is whole, however often the bucket was written (regression)", () => {
    const spec: BucketSpec = { kind: "bucket", rate: 6, periodMs: 10_000, burst: 1 };
    const emptied = takeFromBucket(spec, refillBucket(spec, null, T0), 1);
    const direct = refillBucket(spec, emptied, T0 + 54);
    const viaWrite = refillBucket(spec, refillBucket(spec, emptied, T0 + 6), T0 + 54);
    expect(viaWrite).toEqual(direct);
    expect(bucketRetryAt(spec, direct, 1)).toBe(T0 + 1_667);
    expect(bucketAvailable(refillBucket(spec, direct, T0 + 1_666))).toBe(0);
    expect(bucketAvailable(refillBucket(spec, direct, T0 + 1_667))).toBe(1);
  });

  it("is the earliest instant at which the cost fits (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom(1, 7, 1_000, 60_000, 3_600_000),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (rate, periodMs, burst, milliRaw, remRaw, costRaw) => {
          const spec: BucketSpec = { kind: "bucket", rate, periodMs, burst };
          const milli = milliRaw % (burst * MILLI);
          const state = at(milli, T0, remRaw % periodMs);
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
