// Invariants of the all-or-nothing acquisition (never over a limit, a denial takes nothing), on random sequences of (time advance, acquire, return)
// over fixed, sliding and bucket limits: a model store drives planAcquire/applyDelta, and the MemoryStore (which
// applies them through its hash layout) must answer every call exactly as the model does.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LimitMode, LimitSpec, WindowSpec } from "../core/quota.ts";
import { MemoryStore } from "../store/memory/memory-store.ts";
import { applyDelta, type PlanItem, planAcquire, type SlotState } from "./acquire.ts";
import { grantPeriod, previousSlidingPeriodId } from "./limit-window.ts";
import { SHARER_SLOTS, SHARER_WINDOW_MS, updateSharers } from "./sharers.ts";
import { previousWeight, slidingBuckets } from "./sliding-window.ts";
import { type BucketState, MILLI, refillBucket } from "./token-bucket.ts";

const T0 = Date.parse("2026-11-23T12:00:57Z"); // close to a minute boundary
const TENANT = "t_prop";

/** The stored state of one tenant: counters per (limit, period) and one bucket per bucket limit. */
class Model {
  readonly counters = new Map<string, number>();
  readonly buckets = new Map<string, BucketState>();
  /** Sharer registries per (limit, period), as the store keeps them. */
  readonly sharers = new Map<string, string>();

  /** Registers `caller` as drawing on the limit's current period and returns how many isolates share it. */
  share(limit: LimitSpec, caller: string, nowMs: number): number {
    const k = `${limit.id}|${grantPeriod(limit, nowMs).id}`;
    const s = updateSharers(this.sharers.get(k) ?? null, caller, nowMs, SHARER_WINDOW_MS, SHARER_SLOTS);
    if (s.write) this.sharers.set(k, s.next);
    return s.count;
  }

  counter(limit: LimitSpec, periodId: string): number {
    return this.counters.get(`${limit.id}|${periodId}`) ?? 0;
  }

  slot(limit: LimitSpec, nowMs: number): SlotState {
    const w = limit.window;
    if (w.kind === "bucket") return { kind: "bucket", state: this.buckets.get(limit.id) ?? null };
    const cur = this.counter(limit, grantPeriod(limit, nowMs).id);
    const prev = w.kind === "sliding" ? this.counter(limit, previousSlidingPeriodId(w.sizeMs, nowMs)) : 0;
    return { kind: "counter", prev, cur };
  }

  /** The slot of one given period (what a flush delta lands in). */
  periodSlot(limit: LimitSpec, periodId: string): SlotState {
    if (limit.window.kind === "bucket") return { kind: "bucket", state: this.buckets.get(limit.id) ?? null };
    return { kind: "counter", prev: 0, cur: this.counter(limit, periodId) };
  }

  store(limit: LimitSpec, periodId: string, slot: SlotState): void {
    if (slot.kind === "bucket") this.buckets.set(limit.id, slot.state!);
    else this.counters.set(`${limit.id}|${periodId}`, slot.cur);
  }
}

type WindowChoice =
  | { kind: "fixed"; unit: "second" | "minute" }
  | { kind: "sliding"; sizeMs: number }
  | { kind: "bucket"; rate: number; periodMs: number; burst: number };

const windowArb: fc.Arbitrary<WindowChoice> = fc.oneof(
  fc.record({
    kind: fc.constant("fixed" as const),
    unit: fc.constantFrom("second" as const, "minute" as const),
  }),
  fc.record({ kind: fc.constant("sliding" as const), sizeMs: fc.constantFrom(5_000, 60_000) }),
  fc.record({
    kind: fc.constant("bucket" as const),
    rate: fc.integer({ min: 1, max: 10 }),
    periodMs: fc.constantFrom(1_000, 10_000),
    burst: fc.integer({ min: 1, max: 20 }),
  }),
);

const limitArb = (i: number): fc.Arbitrary<LimitSpec> =>
  fc
    .record({
      window: windowArb,
      amount: fc.constantFrom(1, 10, 1_000),
      mode: fc.constantFrom<LimitMode>("enforce", "enforce", "enforce", "shadow"),
    })
    .map(({ window, amount, mode }) => ({
      id: `d${i}:${JSON.stringify(window)}`,
      name: `d${i}`,
      dimension: `d${i}`,
      window: window as WindowSpec,
      limit: window.kind === "bucket" ? window.burst : amount,
      mode,
      sync: "strict" as const,
    }));

const limitsArb = fc
  .integer({ min: 1, max: 4 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => limitArb(i))));

const unitsArb = fc.oneof(fc.nat(3), fc.nat(15), fc.nat(1_200));

type Op =
  | { kind: "advance"; ms: number }
  | { kind: "acquire"; caller: number; picks: Array<{ include: boolean; min: number; extra: number }> }
  | { kind: "return"; which: number; fraction: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.oneof(fc.nat(200), fc.nat(5_000), fc.nat(90_000)),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("acquire" as const),
      caller: fc.nat(2),
      picks: fc.array(fc.record({ include: fc.boolean(), min: unitsArb, extra: unitsArb }), {
        minLength: 4,
        maxLength: 4,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("return" as const),
      which: fc.nat(3),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

/** Units of a sliding limit counted at `nowMs`: the weighted previous bucket plus the current one. */
function slidingEstimate(model: Model, limit: LimitSpec, nowMs: number): number {
  const w = limit.window;
  if (w.kind !== "sliding") throw new Error("not sliding");
  const s = model.slot(limit, nowMs) as Extract<SlotState, { kind: "counter" }>;
  return previousWeight(s.prev, w.sizeMs, slidingBuckets(w.sizeMs, nowMs).elapsedMs) + s.cur;
}

function checkStored(model: Model, limits: LimitSpec[], nowMs: number): void {
  for (const l of limits) {
    const w = l.window;
    if (w.kind === "bucket") {
      // (d) a bucket never holds more than its burst, nor fewer than 0 tokens.
      const s = model.buckets.get(l.id);
      if (s) {
        expect(s.milli).toBeGreaterThanOrEqual(0);
        expect(s.milli).toBeLessThanOrEqual(w.burst * MILLI);
        expect(Number.isInteger(s.milli)).toBe(true);
      }
    } else if (l.mode === "enforce") {
      // (a) never over the limit: the period's counter (grants net of returns), and for a sliding window the
      // weighted estimate at this instant.
      expect(model.counter(l, grantPeriod(l, nowMs).id)).toBeLessThanOrEqual(l.limit);
      if (w.kind === "sliding") expect(slidingEstimate(model, l, nowMs)).toBeLessThanOrEqual(l.limit);
    }
  }
}

async function run(limits: LimitSpec[], ops: Op[]): Promise<void> {
  const model = new Model();
  const store = new MemoryStore();
  /** Units granted and not yet returned, per (limit, period): what a lease could hand back. */
  const held = new Map<string, { limit: LimitSpec; periodId: string; units: number }>();
  let now = T0;

  for (const op of ops) {
    if (op.kind === "advance") {
      now += op.ms;
    } else if (op.kind === "acquire") {
      const items: PlanItem[] = [];
      limits.forEach((limit, i) => {
        const p = op.picks[i]!;
        if (p.include || i === 0) items.push({ limit, min: p.min, want: p.min + p.extra });
      });
      const slots = items.map((it) => model.slot(it.limit, now));
      const before = items.map((it, i) => {
        const s = slots[i]!;
        return s.kind === "bucket" ? refillBucket(it.limit.window as never, s.state, now) : null;
      });
      const caller = `iso-${op.caller}`;
      // The registry is consulted (and updated) only where a fair split could bind; the store does the same.
      const sharers = items.map(() => 1);
      const plan = planAcquire(items, slots, now, (i) => {
        sharers[i] = model.share(items[i]!.limit, caller, now);
        return sharers[i]!;
      });

      // What each limit had free before the call (a probe that takes nothing).
      const free = planAcquire(
        items.map((it) => ({ ...it, min: 0, want: 0 })),
        slots,
        now,
      ).items.map((p) => p.available);

      // (e) all-or-nothing: ok exactly when every enforced item fits its min.
      expect(plan.ok).toBe(items.every((it, i) => it.limit.mode === "shadow" || free[i]! >= it.min));

      plan.items.forEach((p, i) => {
        const it = items[i]!;
        // (c) availability is reported within [0, limit] (a shadow limit's goes below 0 once it would deny).
        if (it.limit.mode === "enforce") expect(p.available).toBeGreaterThanOrEqual(0);
        expect(p.available).toBeLessThanOrEqual(it.limit.limit);
        expect(p.periodId).toBe(grantPeriod(it.limit, now).id);
        if (!plan.ok) {
          // (b) a denial consumes nothing.
          expect(p.granted).toBe(0);
          if (slots[i]!.kind === "counter") expect(p.next).toEqual(slots[i]);
          else expect((p.next as { state: BucketState }).state.milli).toBe(before[i]!.milli);
          return;
        }
        if (it.limit.mode === "enforce") {
          // (a) an enforced grant never exceeds what was free.
          expect(p.granted).toBeLessThanOrEqual(free[i]!);
          expect(p.granted).toBeGreaterThanOrEqual(it.min);
          // Fair share: beyond min, at most what is left split among the isolates drawing on the limit.
          expect(p.granted).toBeLessThanOrEqual(Math.max(it.min, Math.floor(free[i]! / sharers[i]!)));
          expect(p.granted).toBeLessThanOrEqual(Math.max(it.min, it.want));
        } else {
          expect(p.granted).toBe(it.want);
        }
        // A bucket is charged exactly what was granted (clamping at 0 would hide an over-grant).
        const b = before[i];
        if (b && it.limit.mode === "enforce") {
          expect(p.granted * MILLI).toBeLessThanOrEqual(b.milli);
          expect((p.next as { state: BucketState }).state.milli).toBe(b.milli - p.granted * MILLI);
        }
      });

      if (plan.ok) {
        plan.items.forEach((p, i) => {
          const it = items[i]!;
          model.store(it.limit, p.periodId, p.next);
          if (it.limit.window.kind !== "bucket") {
            const k = `${it.limit.id}|${p.periodId}`;
            const h = held.get(k) ?? { limit: it.limit, periodId: p.periodId, units: 0 };
            h.units += p.granted;
            held.set(k, h);
          }
        });
      }

      // The MemoryStore answers exactly as the model.
      const res = await store.acquire(TENANT, items, now, caller);
      expect(res).toEqual({
        ok: plan.ok,
        items: plan.items.map(({ granted, available, periodId, resetAtMs, retryAtMs }) => ({
          granted,
          available,
          periodId,
          resetAtMs,
          retryAtMs,
        })),
      });
    } else {
      // Return part of what was granted for some (limit, period), possibly of a period that already ended.
      const entries = [...held.values()].filter((h) => h.units > 0);
      const limit = limits[op.which % limits.length]!;
      if (limit.window.kind === "bucket") {
        // Bucket returns put tokens back, capped at the burst.
        const units = Math.floor(op.fraction * limit.limit);
        const next = applyDelta(limit, model.periodSlot(limit, "b"), -units, now);
        model.store(limit, "b", next);
        await store.flush({ deltas: [{ tenant: TENANT, limit, periodId: "b", units: -units }], nowMs: now });
      } else if (entries.length > 0) {
        const h = entries[op.which % entries.length]!;
        const units = Math.floor(op.fraction * h.units);
        const next = applyDelta(h.limit, model.periodSlot(h.limit, h.periodId), -units, now);
        model.store(h.limit, h.periodId, next);
        h.units -= units;
        const [after] = await store.flush({
          deltas: [{ tenant: TENANT, limit: h.limit, periodId: h.periodId, units: -units }],
          nowMs: now,
        });
        expect(after).toBe(model.counter(h.limit, h.periodId));
      }
    }
    checkStored(model, limits, now);
    // The model's counters equal grants net of returns (so (a) is about grants).
    for (const h of held.values()) expect(model.counter(h.limit, h.periodId)).toBe(h.units);
  }
}

describe("planAcquire / applyDelta invariants", () => {
  it("hold for random sequences over fixed, sliding and bucket limits", async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 60 }), async (limits, ops) => {
        await run(limits, ops);
      }),
      { numRuns: 300 },
    );
  });
});
