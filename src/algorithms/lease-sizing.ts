// Lease sizing: how many units an isolate asks for when it must go to the store. Pure; the store may grant less.
import type { LimitSpec } from "../core/quota.ts";

export interface LeaseSizingInput {
  limit: LimitSpec;
  /** Units the current request needs beyond what the isolate already holds. */
  need: number;
  /** Units of this limit the isolate spent per ms, observed over its recent past (0 when unknown). */
  ratePerMs: number;
  /** Time left until the grant's period ends. */
  periodLeftMs: number;
  /** Longest span of traffic one lease should cover (bounds what an idle or evicted isolate strands). */
  maxHorizonMs: number;
  /** Lease size when the rate is unknown (0: a tenant's first request in this isolate, which asks for its need). */
  initialUnits: number;
}

/**
 * Expected use beyond the need, over the lease's horizon, at or below which a lease cannot amortize its exchange:
 * the unit it would add is as likely stranded (and returned, a command more) as spent, so the exchange asks for the
 * need alone and is the decision itself, at the cost of a per-request limiter.
 */
export const AMORTIZES_ABOVE_UNITS = 1;

/**
 * Sized to the traffic expected before the period ends (capped at maxHorizonMs), so a steady tenant far below its
 * limit needs about one exchange per window; never below `need`, never above the limit itself. Exactly `need` when
 * a lease would not amortize (see AMORTIZES_ABOVE_UNITS).
 */
export function leaseWant(input: LeaseSizingInput): number {
  const { limit, need, ratePerMs, periodLeftMs, maxHorizonMs, initialUnits } = input;
  const horizon = Math.max(0, Math.min(periodLeftMs, maxHorizonMs));
  const expected = ratePerMs > 0 ? ratePerMs * horizon * 1.25 : initialUnits;
  if (expected <= AMORTIZES_ABOVE_UNITS) return need;
  return Math.max(need, Math.min(limit.limit, need + Math.ceil(expected)));
}
