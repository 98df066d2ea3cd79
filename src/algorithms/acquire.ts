// The all-or-nothing acquisition over one request's limits, as a pure function of their stored states. The memory
// store applies it directly; the Lua acquire script is its line-by-line mirror (checked by the differential test).
import type { LimitSpec } from "../core/quota.ts";
import { grantPeriod } from "./limit-window.ts";
import { SHARER_SLOTS } from "./sharers.ts";
import { slidingAvailable, slidingRetryAt } from "./sliding-window.ts";
import {
  type BucketSpec,
  type BucketState,
  bucketAvailable,
  bucketRetryAt,
  refillBucket,
  takeFromBucket,
} from "./token-bucket.ts";

/** Stored state of one limit for one tenant. Counters: calendar window (`prev` unused) or sliding buckets. */
export type SlotState =
  | { kind: "counter"; prev: number; cur: number }
  | { kind: "bucket"; state: BucketState | null };

export interface PlanItem {
  limit: LimitSpec;
  min: number;
  want: number;
}

export interface PlannedItem {
  granted: number;
  available: number;
  periodId: string;
  resetAtMs: number;
  retryAtMs: number;
  /** The state to store when the plan is applied (unchanged when nothing is granted). */
  next: SlotState;
  /** A counter granted nothing whose stored value is 0 loses its field (the store took it and gave it back). */
  dropsZero: boolean;
}

export interface Plan {
  ok: boolean;
  items: PlannedItem[];
}

interface Evaluated {
  available: number;
  resetAtMs: number;
  retryAtMs: (units: number) => number;
  state: SlotState;
}

function evaluate(limit: LimitSpec, slot: SlotState, nowMs: number): Evaluated {
  const w = limit.window;
  if (w.kind === "bucket") {
    const s = refillBucket(w, slot.kind === "bucket" ? slot.state : null, nowMs);
    const full = bucketRetryAt(w, s, w.burst);
    return {
      available: bucketAvailable(s),
      resetAtMs: full,
      retryAtMs: (units) => bucketRetryAt(w, s, units),
      state: { kind: "bucket", state: s },
    };
  }
  const c = slot.kind === "counter" ? slot : { kind: "counter" as const, prev: 0, cur: 0 };
  const period = grantPeriod(limit, nowMs);
  if (w.kind === "sliding") {
    return {
      available: slidingAvailable(limit.limit, c.prev, c.cur, w.sizeMs, nowMs),
      resetAtMs: period.endMs,
      retryAtMs: (units) => slidingRetryAt(limit.limit, c.prev, c.cur, units, w.sizeMs, nowMs),
      state: c,
    };
  }
  return {
    available: Math.max(0, limit.limit - c.cur),
    resetAtMs: period.endMs,
    retryAtMs: (units) => (units > limit.limit ? Number.POSITIVE_INFINITY : period.endMs),
    state: c,
  };
}

function take(limit: LimitSpec, slot: SlotState, units: number): SlotState {
  if (slot.kind === "counter") return { kind: "counter", prev: slot.prev, cur: slot.cur + units };
  return { kind: "bucket", state: takeFromBucket(limit.window as BucketSpec, slot.state!, units) };
}

/**
 * Enforced items must each fit `min`, or nothing is taken (a denial consumes nothing). When they fit, an enforced
 * item takes min(want, available / sharers) but at least min, where `sharers` counts the isolates recently drawing on
 * the same limit (their fair share, as in Doorman): one isolate cannot hoard what the others will need, so near the
 * limit leases shrink and little allowance is stranded. A shadow item takes `want` whatever is left (it never
 * denies, and its counter shows true usage).
 */
export function fairGrant(min: number, want: number, available: number, sharers: number): number {
  if (sharers <= 1) return Math.max(min, Math.min(want, available));
  // Shared: one share stays in reserve for whichever isolate runs out first, and the last few units go one request
  // at a time, so what routing luck leaves stranded in other isolates stays small (under-admission).
  return Math.max(min, Math.min(want, Math.floor(available / (sharers + 1))));
}

export function planAcquire(
  items: PlanItem[],
  slots: SlotState[],
  nowMs: number,
  sharersOf?: (index: number) => number,
): Plan {
  const evals = items.map((it, i) => evaluate(it.limit, slots[i]!, nowMs));
  const refuses = (it: PlanItem, i: number) => it.limit.mode === "enforce" && evals[i]!.available < it.min;
  const refusedAt = items.findIndex(refuses);
  const ok = refusedAt < 0;
  return {
    ok,
    items: items.map((it, i) => {
      const e = evals[i]!;
      const periodId = grantPeriod(it.limit, nowMs).id;
      const retryAtMs = e.available >= it.min ? e.resetAtMs : e.retryAtMs(it.min);
      // The store takes counters optimistically up to the first refused item and gives back what it does not grant;
      // a field it found at 0 (or missing) and granted nothing from is left out.
      const dropsZero = it.limit.window.kind !== "bucket" && it.want > 0 && (ok || i <= refusedAt);
      if (!ok)
        return {
          granted: 0,
          available: e.available,
          periodId,
          resetAtMs: e.resetAtMs,
          retryAtMs,
          next: e.state,
          dropsZero,
        };
      const granted =
        it.limit.mode === "shadow"
          ? it.want
          : fairGrant(it.min, it.want, e.available, sharersFor(it, e, i, sharersOf));
      return {
        granted,
        // A shadow limit's count may pass its limit; its `available` then goes below 0 (what it would have denied).
        available: it.limit.mode === "shadow" ? e.available - granted : Math.max(0, e.available - granted),
        periodId,
        resetAtMs: e.resetAtMs,
        retryAtMs,
        next: take(it.limit, e.state, granted),
        dropsZero: dropsZero && granted === 0,
      };
    }),
  };
}

/** The registry is consulted (and the caller registered) only where a fair split could cut the grant: with `want`
 * above `min` (a grant of `min` is the decision itself) and below an equal share among the most sharers remembered
 * (a grant is then `want` whoever else draws). Elsewhere it costs nothing. */
function sharersFor(
  it: PlanItem,
  e: Evaluated,
  i: number,
  sharersOf: ((index: number) => number) | undefined,
): number {
  return sharersOf && it.want > it.min && e.available < it.want * SHARER_SLOTS ? sharersOf(i) : 1;
}

/** Applies a delta to a stored slot: counters never go below 0, buckets never above their burst. */
export function applyDelta(limit: LimitSpec, slot: SlotState, units: number, nowMs: number): SlotState {
  const w = limit.window;
  if (w.kind === "bucket") {
    const s = refillBucket(w, slot.kind === "bucket" ? slot.state : null, nowMs);
    return { kind: "bucket", state: takeFromBucket(w, s, units) };
  }
  const c = slot.kind === "counter" ? slot : { kind: "counter" as const, prev: 0, cur: 0 };
  return { kind: "counter", prev: c.prev, cur: Math.max(0, c.cur + units) };
}
