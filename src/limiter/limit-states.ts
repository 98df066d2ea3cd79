// What an isolate can tell of a tenant's limits without I/O: remaining and reset per limit, from the store's last
// answer plus what the book holds. Pure reads of the book.
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { TenantBook } from "../cache/tenant-book.ts";
import type { Decision, LimitState, Need, Plan } from "../core/quota.ts";

export function limitStates(book: TenantBook, needs: Need[], now: number): LimitState[] {
  return needs.map(({ limit: l, units: c }) => {
    const d = book.denial(l, now);
    const denied = d !== undefined && c > d.available;
    if (l.sync === "async") {
      const a = book.count(l, now);
      const raw = l.limit - (a ? a.known + a.sending + a.unsynced : 0);
      // A shadow limit is counted even past its limit: it would have denied when the count went below 0.
      const exceeded = l.mode === "shadow" ? raw < 0 : raw < c;
      const resetAtMs = a?.periodEndMs ?? grantPeriod(l, now).endMs;
      return { limit: l, cost: c, remaining: Math.max(0, raw), resetAtMs, exceeded };
    }
    const lease = book.lease(l, now);
    if (!lease)
      return {
        limit: l,
        cost: c,
        remaining: denied ? 0 : l.limit,
        resetAtMs: grantPeriod(l, now).endMs,
        exceeded: denied,
      };
    const raw = lease.storeAvailable + lease.allowance;
    const remaining = denied ? 0 : Math.min(l.limit, Math.max(0, raw));
    return {
      limit: l,
      cost: c,
      remaining,
      resetAtMs: lease.resetAtMs,
      exceeded: l.mode === "shadow" ? raw < 0 : denied,
    };
  });
}

type Outcome = Pick<Decision, "allowed" | "reason" | "local"> & { retryAtMs?: number };

/** A decision about `plan` with the states of the limits it touched. */
export function decision(plan: Plan, book: TenantBook, needs: Need[], now: number, o: Outcome): Decision {
  return { ...o, tenant: plan.tenant, tier: plan.tier, states: limitStates(book, needs, now) };
}
