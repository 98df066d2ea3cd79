// Token bucket in exact integer arithmetic (milli-units plus a sub-milli remainder), so that TypeScript and Lua (both
// IEEE doubles) compute identical states, and a state means the same whenever and however often it was written.
import type { WindowSpec } from "../core/quota.ts";

export type BucketSpec = Extract<WindowSpec, { kind: "bucket" }>;

export interface BucketState {
  /** Whole milli-units (tokens x 1000), an integer in [0, burst x 1000]. */
  milli: number;
  /** What refill added beyond `milli`, in 1/periodMs of a milli-unit: an integer in [0, periodMs). Refill accrues
   * rate x 1000 of these per ms; carrying the remainder keeps refill exact (flooring it away at every write would
   * make the level depend on how often the bucket was written, and stall a slow bucket that is written often). */
  rem: number;
  /** The instant `milli` and `rem` describe, epoch ms. */
  tsMs: number;
}

export const MILLI = 1000;

/** The level in 1/periodMs milli-units: exact below 2^53, since the policy keeps burst x periodMs x 1000 below it. */
function scaled(spec: BucketSpec, s: BucketState): number {
  return s.milli * spec.periodMs + s.rem;
}

function full(spec: BucketSpec, nowMs: number): BucketState {
  return { milli: spec.burst * MILLI, rem: 0, tsMs: nowMs };
}

/** Brings a bucket up to `nowMs`; a missing bucket is full. */
export function refillBucket(spec: BucketSpec, state: BucketState | null, nowMs: number): BucketState {
  if (state === null) return full(spec, nowMs);
  const elapsed = Math.max(0, nowMs - state.tsMs);
  // Past the full-refill time the bucket is full; below it, elapsed x rate < burst x period, so the products below
  // stay exact.
  if (elapsed >= Math.ceil((spec.burst * spec.periodMs) / spec.rate)) return full(spec, nowMs);
  const add = elapsed * spec.rate * MILLI;
  const level = scaled(spec, state);
  if (add >= spec.burst * MILLI * spec.periodMs - level) return full(spec, nowMs);
  const v = level + add;
  // Exact: v < 2^53, so v / periodMs is within half an ulp, less than 1/periodMs from any integer it is not.
  const milli = Math.floor(v / spec.periodMs);
  return { milli, rem: v - milli * spec.periodMs, tsMs: nowMs };
}

export function bucketAvailable(state: BucketState): number {
  return Math.floor(state.milli / MILLI);
}

/** Takes `units` tokens (a return when negative): never below 0, never above the burst. */
export function takeFromBucket(spec: BucketSpec, state: BucketState, units: number): BucketState {
  const milli = state.milli - units * MILLI;
  if (milli < 0) return { milli: 0, rem: 0, tsMs: state.tsMs };
  if (milli >= spec.burst * MILLI) return full(spec, state.tsMs);
  return { milli, rem: state.rem, tsMs: state.tsMs };
}

/** Earliest instant at which `cost` tokens are in the bucket, assuming no other traffic: the first whole ms at which
 * refill has added the deficit (rounded up, since an earlier ms is short of it). Never, when cost exceeds the burst. */
export function bucketRetryAt(spec: BucketSpec, state: BucketState, cost: number): number {
  if (cost > spec.burst) return Number.POSITIVE_INFINITY;
  const deficit = cost * MILLI * spec.periodMs - scaled(spec, state);
  if (deficit <= 0) return state.tsMs;
  return state.tsMs + Math.ceil(deficit / (spec.rate * MILLI));
}

/** Seconds a full bucket takes to refill: the `w` reported for a bucket policy. */
export function bucketWindowSec(spec: BucketSpec): number {
  return Math.max(1, Math.ceil((spec.burst * spec.periodMs) / spec.rate / 1000));
}
