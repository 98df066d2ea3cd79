// Token bucket in integer milli-units so that TypeScript and Lua (both IEEE doubles) compute identical states.
import type { WindowSpec } from "../core/quota.ts";

export type BucketSpec = Extract<WindowSpec, { kind: "bucket" }>;

export interface BucketState {
  /** Tokens x 1000, an integer in [0, burst x 1000]. */
  milli: number;
  /** When `milli` was last brought up to date, epoch ms. */
  tsMs: number;
}

export const MILLI = 1000;

/** Brings a bucket up to `nowMs`; a missing bucket is full. Refill is floored to whole milli-units. */
export function refillBucket(spec: BucketSpec, state: BucketState | null, nowMs: number): BucketState {
  const cap = spec.burst * MILLI;
  if (state === null) return { milli: cap, tsMs: nowMs };
  const elapsed = Math.max(0, nowMs - state.tsMs);
  // Past the full-refill time the bucket is full; the cap also keeps the product below 2^53.
  const fullAfter = Math.ceil((spec.burst * spec.periodMs) / spec.rate);
  if (elapsed >= fullAfter) return { milli: cap, tsMs: nowMs };
  const add = Math.floor((elapsed * spec.rate * MILLI) / spec.periodMs);
  return { milli: Math.min(cap, state.milli + add), tsMs: nowMs };
}

export function bucketAvailable(state: BucketState): number {
  return Math.floor(state.milli / MILLI);
}

/** Earliest instant at which `cost` tokens are in the bucket, assuming no other traffic. */
export function bucketRetryAt(spec: BucketSpec, state: BucketState, cost: number): number {
  const deficit = cost * MILLI - state.milli;
  if (deficit <= 0) return state.tsMs;
  return state.tsMs + Math.ceil((deficit * spec.periodMs) / (spec.rate * MILLI));
}

/** Seconds a full bucket takes to refill: the `w` reported for a bucket policy. */
export function bucketWindowSec(spec: BucketSpec): number {
  return Math.max(1, Math.ceil((spec.burst * spec.periodMs) / spec.rate / 1000));
}
