// Sliding window over two buckets: bucket arithmetic, the weighted estimate, and retryAt as the earliest fit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { previousWeight, slidingAvailable, slidingBuckets, slidingRetryAt } from "./sliding-window.ts";

const SIZE = 60_000;
const T0 = 1_000 * SIZE; // the start of bucket 1000

/** Units free at `t` when nothing else happens after `nowMs` (current bucket, then it becomes the previous one). */
function availableAt(
  limit: number,
  prev: number,
  cur: number,
  sizeMs: number,
  nowMs: number,
  t: number,
): number {
  const dt = slidingBuckets(sizeMs, t).index - slidingBuckets(sizeMs, nowMs).index;
  if (dt === 0) return slidingAvailable(limit, prev, cur, sizeMs, t);
  if (dt === 1) return slidingAvailable(limit, cur, 0, sizeMs, t);
  return limit;
}

describe("slidingBuckets", () => {
  it("indexes buckets by floor(now / size)", () => {
    expect(slidingBuckets(SIZE, T0 + 1_500)).toEqual({
      index: 1000,
      startMs: T0,
      endMs: T0 + SIZE,
      elapsedMs: 1_500,
    });
    expect(slidingBuckets(SIZE, T0 - 1).index).toBe(999);
    expect(slidingBuckets(SIZE, T0 + SIZE).index).toBe(1001);
  });
});

describe("slidingAvailable", () => {
  it("counts the previous bucket in proportion to the overlap, rounded up", () => {
    // 25% into the bucket: 75% of prev=10 is 7.5 -> 8.
    expect(previousWeight(10, SIZE, SIZE / 4)).toBe(8);
    expect(slidingAvailable(100, 10, 5, SIZE, T0 + SIZE / 4)).toBe(100 - 8 - 5);
    // At the start the whole previous bucket counts; at the end nothing of it does.
    expect(slidingAvailable(100, 40, 0, SIZE, T0)).toBe(60);
    expect(slidingAvailable(100, 40, 0, SIZE, T0 + SIZE - 1)).toBe(99);
  });

  it("never goes below 0", () => {
    expect(slidingAvailable(10, 10, 5, SIZE, T0)).toBe(0);
    expect(slidingAvailable(10, 0, 11, SIZE, T0)).toBe(0);
  });

  it("stays within [0, limit] and never under-counts (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.nat(2_000_000),
        fc.nat(2_000_000),
        fc.integer({ min: 1_000, max: 86_400_000 }),
        fc.nat(86_400_000),
        (limit, prev, cur, sizeMs, e) => {
          const now = 500 * sizeMs + (e % sizeMs);
          const a = slidingAvailable(limit, prev, cur, sizeMs, now);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(limit);
          const exact = limit - (prev * (sizeMs - (e % sizeMs))) / sizeMs - cur;
          expect(a).toBeLessThanOrEqual(Math.max(0, exact));
        },
      ),
    );
  });
});

describe("slidingRetryAt", () => {
  it("is now when the cost fits", () => {
    expect(slidingRetryAt(100, 50, 10, 40, SIZE, T0 + 10)).toBe(T0 + 10);
  });

  it("waits inside the bucket for the previous bucket's weight to decay", () => {
    // limit 100, prev 100, cur 0, cost 50: need ceil(100*(size-e)/size) <= 50, i.e. e >= size/2.
    const t = slidingRetryAt(100, 100, 0, 50, SIZE, T0);
    expect(t).toBe(T0 + SIZE / 2);
    expect(slidingAvailable(100, 100, 0, SIZE, t)).toBe(50);
    expect(slidingAvailable(100, 100, 0, SIZE, t - 1)).toBe(49);
  });

  it("waits into the next bucket when the current one is too full", () => {
    // cur 80 of 100, cost 30: never fits in this bucket; next bucket needs ceil(80*(size-e)/size) <= 70.
    const now = T0 + 1_000;
    const t = slidingRetryAt(100, 0, 80, 30, SIZE, now);
    expect(t).toBeGreaterThanOrEqual(T0 + SIZE);
    expect(availableAt(100, 0, 80, SIZE, now, t)).toBeGreaterThanOrEqual(30);
    expect(availableAt(100, 0, 80, SIZE, now, t - 1)).toBeLessThan(30);
  });

  it("a cost above the limit never fits: never, as in a calendar window (no Retry-After that cannot help)", () => {
    expect(slidingRetryAt(10, 0, 0, 11, SIZE, T0 + 5)).toBe(Number.POSITIVE_INFINITY);
    expect(slidingRetryAt(10, 4, 8, 11, SIZE, T0 + 5)).toBe(Number.POSITIVE_INFINITY);
  });

  it("is the earliest instant at which the cost fits (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1_000, max: 3_600_000 }),
        fc.nat(3_600_000),
        fc.nat(20_000),
        fc.nat(20_000),
        fc.nat(10_000),
        (limit, sizeMs, e, prevRaw, curRaw, costRaw) => {
          const prev = prevRaw % (limit + 1);
          const cur = curRaw % (limit + 1);
          const cost = 1 + (costRaw % limit);
          const now = 1_000 * sizeMs + (e % sizeMs);
          const t = slidingRetryAt(limit, prev, cur, cost, sizeMs, now);
          expect(t).toBeGreaterThanOrEqual(now);
          expect(availableAt(limit, prev, cur, sizeMs, now, t)).toBeGreaterThanOrEqual(cost);
          if (t > now) expect(availableAt(limit, prev, cur, sizeMs, now, t - 1)).toBeLessThan(cost);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
