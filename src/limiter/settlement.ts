// Settlement of a reservation: the difference between what a request reserved in a limit and what it really cost,
// booked in the tenant's book with no I/O (the flusher sends what the book owes). An overshoot first spends allowance
// the isolate holds; past it, the tenant is refused locally until the store has heard of the debt.
import type { TenantBook } from "../cache/tenant-book.ts";
import type { LimitSpec, UsageDelta } from "../core/quota.ts";

export interface SettleContext {
  now: number;
  /** How long a denial is trusted without asking the store again. */
  cacheTtlMs: number;
  /** Owes a delta of a tenant whose book the isolate no longer holds. */
  oweOrphan(d: UsageDelta): void;
  /** A debt is owed: the next request's flush should carry it. */
  syncSoon(): void;
}

/**
 * Books `units` (actual minus reserved; negative: a refund) for (tenant, limit, period).
 *
 * - A refund to the period the isolate holds a lease of goes back into the lease: spendable at once, and returned to
 *   the store like any unused allowance. Otherwise it is owed as a return.
 * - An overshoot is taken from the lease's allowance first (the store already counts it); the rest is owed as a
 *   debt. The store does not know the debt until the next flush and could grant allowance the debt has used up, so
 *   a denial is cached for what the store had left minus the debt.
 * - Token buckets and async limits take the delta through the store (a bucket's tokens lapse when held; an async
 *   count learns the store's total on its next sync); an async overshoot also joins the local count at once.
 */
export function settleIn(
  book: TenantBook | undefined,
  tenant: string,
  limit: LimitSpec,
  periodId: string,
  units: number,
  ctx: SettleContext,
): void {
  if (units === 0 || !Number.isFinite(units)) return;
  const delta: UsageDelta = { tenant, limit, periodId, units };
  if (!book) {
    ctx.oweOrphan(delta);
    if (units > 0) ctx.syncSoon();
    return;
  }
  const now = ctx.now;
  if (limit.window.kind === "bucket" || limit.sync === "async") {
    const count = limit.sync === "async" ? book.count(limit, now) : undefined;
    if (units > 0 && count && count.periodId === periodId) book.countAsync(limit, units, now);
    else book.owe(delta);
    if (units > 0) ctx.syncSoon();
    return;
  }
  const lease = book.lease(limit, now);
  const held = lease && lease.periodId === periodId ? lease : undefined;
  if (units < 0) {
    if (!held) {
      book.owe(delta);
      return;
    }
    held.allowance -= units;
    held.spentSinceGrant = Math.max(0, held.spentSinceGrant + units);
    const denial = book.denial(limit, now);
    // What the store denied did not know of these units: requests they cover may pass again.
    if (denial) denial.available -= units;
    return;
  }
  const taken = held ? Math.min(held.allowance, units) : 0;
  if (held) {
    held.allowance -= taken;
    held.spentSinceGrant += taken;
    held.lastUsedMs = now;
  }
  const debt = units - taken;
  if (debt === 0) return;
  book.owe({ ...delta, units: debt });
  ctx.syncSoon();
  if (!held || limit.mode !== "enforce") return;
  // The store will grant from what it had left, not knowing the debt: deny what the debt has used up.
  const left = Math.max(0, held.storeAvailable - debt);
  held.storeAvailable = left;
  book.deny(limit, {
    untilMs: Math.min(held.resetAtMs, now + ctx.cacheTtlMs),
    retryAtMs: held.resetAtMs,
    available: left,
  });
}
