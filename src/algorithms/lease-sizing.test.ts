// Lease sizing: sized to the expected traffic, never below the need, never above the limit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LimitSpec } from "../core/quota.ts";
import { type LeaseSizingInput, leaseWant } from "./lease-sizing.ts";

const limitOf = (limit: number): LimitSpec => ({
  id: "requests:minute",
  name: "requests-minute",
  dimension: "requests",
  window: { kind: "fixed", unit: "minute" },
  limit,
  mode: "enforce",
  sync: "strict",
});

const base: LeaseSizingInput = {
  limit: limitOf(1_000),
  need: 1,
  ratePerMs: 0,
  periodLeftMs: 60_000,
  maxHorizonMs: 60_000,
  initialUnits: 10,
};

describe("leaseWant", () => {
  it("asks for the need plus the initial units when the rate is unknown", () => {
    expect(leaseWant(base)).toBe(11);
  });

  it("sizes to the traffic expected before the period ends, with 25% headroom", () => {
    // 1 unit per 100 ms over 30 s -> 300, x1.25 -> 375.
    expect(leaseWant({ ...base, ratePerMs: 0.01, periodLeftMs: 30_000 })).toBe(1 + 375);
  });

  it("caps the horizon at maxHorizonMs", () => {
    expect(leaseWant({ ...base, ratePerMs: 0.001, periodLeftMs: 3_600_000, maxHorizonMs: 10_000 })).toBe(
      1 + Math.ceil(0.001 * 10_000 * 1.25),
    );
  });

  it("never asks above the limit", () => {
    expect(leaseWant({ ...base, ratePerMs: 10 })).toBe(1_000);
    expect(leaseWant({ ...base, initialUnits: 5_000 })).toBe(1_000);
  });

  it("asks for the need alone when about one unit is expected over the horizon (the exchange is the decision)", () => {
    // 0.75 units/min x 1.25 headroom = 0.94 units expected in the minute left: a lease would not amortize.
    expect(leaseWant({ ...base, need: 2, ratePerMs: 0.75 / 60_000 })).toBe(2);
    // 1 unit/min expected 1.25: a lease of the need plus 2 pays for itself.
    expect(leaseWant({ ...base, need: 2, ratePerMs: 1 / 60_000 })).toBe(4);
  });

  it("a period that already ended asks for the need alone", () => {
    expect(leaseWant({ ...base, ratePerMs: 1, periodLeftMs: -5 })).toBe(1);
  });

  it("never below need, never above max(need, limit) (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.nat(2_000_000),
        fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
        fc.integer({ min: -10_000, max: 100_000_000 }),
        fc.nat(100_000_000),
        fc.integer({ min: 1, max: 1_000_000 }),
        (limit, need, ratePerMs, periodLeftMs, maxHorizonMs, initialUnits) => {
          const w = leaseWant({
            limit: limitOf(limit),
            need,
            ratePerMs,
            periodLeftMs,
            maxHorizonMs,
            initialUnits,
          });
          expect(Number.isInteger(w)).toBe(true);
          expect(w).toBeGreaterThanOrEqual(need);
          expect(w).toBeLessThanOrEqual(Math.max(need, limit));
        },
      ),
    );
  });
});
