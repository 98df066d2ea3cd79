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
 * Books the units back, as a settlement of the whole reservation (back into the isolate's lease when it holds the
 * period, else owed to the store). A decision whose span crosses a period boundary of a limit could have been
 * counted in either period: those units are left counted (under-admission by at most the request's cost, never
 * over-admission).
 */
export function refund(limiter: Limiter, r: Ruling): void {
  if (!r.decision.allowed) return;
  for (const { limit, units } of r.needs) {
    const periodId = grantPeriod(limit, r.fromMs).id;
    if (grantPeriod(limit, r.toMs).id !== periodId) continue;
    limiter.settle(r.plan.tenant, limit, periodId, -units);
  }
}
