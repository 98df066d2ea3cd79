// Refunds: an allowed request that never reached the origin (it waited for a concurrency slot and gave up, or its
// client left) gives back the units its decision took, so that a refused request consumes nothing.
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { Decision, Need, Plan } from "../core/quota.ts";
import type { Limiter } from "./limiter.ts";

/** An allowed or denied decision with what a refund needs: the plan, the units per limit, and when it was taken. */
export interface Ruling {
  plan: Plan;
  decision: Decision;
  needs: Need[];
  /** The decision was taken between these instants (a store round trip may lie between them). */
  fromMs: number;
  toMs: number;
}

/**
 * Owes the units back to the period they were counted in. A decision whose span crosses a period boundary of a limit
 * could have been counted in either period: those units are left counted (under-admission by at most the request's
 * cost, never over-admission). An async count not yet sent is taken back where it sits.
 */
export function refund(limiter: Limiter, r: Ruling, nowMs: number): void {
  if (!r.decision.allowed) return;
  const book = limiter.books.peek(r.plan.tenant);
  for (const { limit, units } of r.needs) {
    const periodId = grantPeriod(limit, r.fromMs).id;
    if (grantPeriod(limit, r.toMs).id !== periodId) continue;
    const a = limit.sync === "async" ? book?.count(limit, nowMs) : undefined;
    if (a && a.periodId === periodId && a.unsynced >= units) {
      a.unsynced -= units;
      continue;
    }
    limiter.flusher.owe({ tenant: r.plan.tenant, limit, periodId, units: -units });
  }
}
