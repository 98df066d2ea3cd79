// The per-tenant book: one typed record of what an isolate holds for a tenant (plan, leases by limit, cached denials,
// async counts, owed deltas). Synchronous and free of I/O; lookups never mutate; time moves it only through roll().
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { LimitSpec, Plan, UsageDelta } from "../core/quota.ts";

/** Where a plan came from: a record set through the admin API, the policy's static tenants, the tier a credential
 * names or the default tier; "fallback" when the store could not be read and the policy alone decided. */
export type PlanSource = "admin" | "policy" | "credential" | "default" | "fallback";

export interface Lease {
  limit: LimitSpec;
  periodId: string;
  /** The lease may be spent until then (period end; for a bucket, a short validity). */
  validUntilMs: number;
  /** Units this isolate may still admit. */
  allowance: number;
  /** Units the store had left after the last grant (for remaining and headers). */
  storeAvailable: number;
  resetAtMs: number;
  grantedAtMs: number;
  spentSinceGrant: number;
  lastUsedMs: number;
  /** Units per ms this isolate spent between its grants, carried across periods (sizes the next lease). */
  ratePerMs: number;
  /** Units of the last grant (the next may be at most twice as large). */
  lastGrant: number;
  /** Allowance fetched ahead for the next calendar period, promoted by roll() when that period starts. */
  next: { periodId: string; allowance: number; storeAvailable: number; resetAtMs: number } | undefined;
}

export interface AsyncCount {
  limit: LimitSpec;
  periodId: string;
  periodEndMs: number;
  /** Global count at the last sync (our synced units included). */
  known: number;
  /** Admitted here, not yet sent. */
  unsynced: number;
  /** Sent in the flush under way. */
  sending: number;
}

export interface Denial {
  /** Until then this isolate denies without asking the store (at most the cache TTL). */
  untilMs: number;
  /** When the store said the request may fit again (what Retry-After reports). */
  retryAtMs: number;
  /** Units this isolate could have had when the store denied: only a request costing more is denied from the book. */
  available: number;
}

const deltaKey = (limitId: string, periodId: string) => `${limitId}\u0000${periodId}`;

/** A token bucket refills in place of tokens held past a lease's validity: given back later they could let the bucket
 * admit more than its burst, so they lapse instead. */
const lapsed = (lease: Lease, now: number) =>
  lease.limit.window.kind === "bucket" && now >= lease.validUntilMs;

export class TenantBook {
  readonly tenant: string;
  plan: { plan: Plan; source: PlanSource; expiresAtMs: number } | undefined;
  readonly leases = new Map<string, Lease>();
  readonly denials = new Map<string, Denial>();
  readonly counts = new Map<string, AsyncCount>();
  /** Deltas this tenant owes the store, merged per (limit, period) so they stay bounded: the flusher drains them. */
  readonly owed = new Map<string, UsageDelta>();
  /** Units admitted per limit in the current period while the store was unreachable (the degraded share's count). */
  readonly offline = new Map<string, { limit: LimitSpec; periodId: string; units: number }>();

  constructor(tenant: string) {
    this.tenant = tenant;
  }

  // ---- lookups: pure reads ----

  planAt(now: number): Plan | undefined {
    return this.plan && this.plan.expiresAtMs > now ? this.plan.plan : undefined;
  }

  /** The lease of `limit` when it may be spent now: same amount and mode, the current period, still valid. */
  lease(limit: LimitSpec, now: number): Lease | undefined {
    const v = this.leases.get(limit.id);
    if (!v || v.limit.limit !== limit.limit || v.limit.mode !== limit.mode) return undefined;
    if (v.periodId !== grantPeriod(limit, now).id || now >= v.validUntilMs) return undefined;
    return v;
  }

  denial(limit: LimitSpec, now: number): Denial | undefined {
    const d = this.denials.get(limit.id);
    return d && d.untilMs > now ? d : undefined;
  }

  /** The async count of the current period (undefined: nothing counted in it yet). */
  count(limit: LimitSpec, now: number): AsyncCount | undefined {
    const a = this.counts.get(limit.id);
    return a && a.periodId === grantPeriod(limit, now).id ? a : undefined;
  }

  /** Units this isolate admitted for `limit` in the current period without the store. */
  offlineUnits(limit: LimitSpec, now: number): number {
    const o = this.offline.get(limit.id);
    return o && o.periodId === grantPeriod(limit, now).id ? o.units : 0;
  }

  /** Units owed but not sent for (limit, period): returns (negative) free units, settlements (positive) use them. */
  owedFor(limit: LimitSpec, periodId: string): number {
    return this.owed.get(deltaKey(limit.id, periodId))?.units ?? 0;
  }

  /** Allowance held unspent for (limit, period): the store counts it, nobody has spent it yet. */
  held(limitId: string, periodId: string): number {
    const v = this.leases.get(limitId);
    if (!v) return 0;
    return (
      (v.periodId === periodId ? v.allowance : 0) + (v.next?.periodId === periodId ? v.next.allowance : 0)
    );
  }

  /** Latest instant something in the book still matters: the cache keeps the book until then. */
  horizon(now: number, lingerMs: number): number {
    let until = this.plan?.expiresAtMs ?? now;
    for (const l of this.leases.values()) until = Math.max(until, l.validUntilMs + lingerMs);
    for (const d of this.denials.values()) until = Math.max(until, d.untilMs);
    for (const a of this.counts.values()) until = Math.max(until, a.periodEndMs + lingerMs);
    return this.owed.size > 0 ? Math.max(until, now + lingerMs) : until;
  }

  /** Approximate bytes, for the cache's byte budget. */
  bytes(): number {
    const planBytes = this.plan ? 64 + 96 * this.plan.plan.limits.length : 0;
    return (
      64 +
      2 * this.tenant.length +
      planBytes +
      96 * (this.leases.size + this.denials.size + this.counts.size + this.offline.size) +
      64 * this.owed.size
    );
  }

  // ---- the explicit time step ----

  /**
   * Brings the book to `now`: a lease whose prefetched next period has begun is promoted (the old period's leftover
   * is owed back); a lease of a past period, or granted under another amount than `plan` now sets, owes its
   * allowance back; lapsed denials go; an async count of a past period owes its unsent units.
   */
  roll(now: number, plan?: Plan): void {
    for (const lease of this.leases.values()) {
      // A plan has a handful of limits: a scan is cheaper than building a map on every request (the last of a
      // repeated id wins, as it would in a map).
      const changed = plan?.limits.findLast((l) => l.id === lease.limit.id);
      if (changed && (changed.limit !== lease.limit.limit || changed.mode !== lease.limit.mode)) {
        // A lowered limit must not be spent past: what was granted under the old amount goes back.
        this.returnLease(lease, now, true);
        lease.limit = changed;
        continue;
      }
      const periodId = grantPeriod(lease.limit, now).id;
      // Periods follow each other, so a next period that is not the current one is over too.
      if (lease.periodId !== periodId && !this.promote(lease, periodId)) this.returnLease(lease, now, true);
      else if (now >= lease.validUntilMs) this.returnLease(lease, now, false);
    }
    for (const [id, d] of this.denials) if (d.untilMs <= now) this.denials.delete(id);
    for (const [id, o] of this.offline)
      if (o.periodId !== grantPeriod(o.limit, now).id) this.offline.delete(id);
    for (const [id, a] of this.counts) {
      if (a.periodId === grantPeriod(a.limit, now).id) continue;
      if (a.unsynced > 0)
        this.owe({ tenant: this.tenant, limit: a.limit, periodId: a.periodId, units: a.unsynced });
      a.unsynced = 0;
      if (a.sending === 0) this.counts.delete(id);
    }
  }

  // ---- mutations ----

  owe(d: UsageDelta): void {
    if (d.units === 0) return;
    const k = deltaKey(d.limit.id, d.periodId);
    const cur = this.owed.get(k);
    if (cur) cur.units += d.units;
    else this.owed.set(k, { ...d });
  }

  /** Owes a lease's unused allowance (and, with `includeNext`, its prefetched next period's) back to the store. */
  returnLease(lease: Lease, now: number, includeNext: boolean): number {
    let returned = 0;
    if (lease.allowance > 0 && !lapsed(lease, now)) {
      this.owe({
        tenant: this.tenant,
        limit: lease.limit,
        periodId: lease.periodId,
        units: -lease.allowance,
      });
      returned += lease.allowance;
    }
    lease.allowance = 0;
    if (includeNext && lease.next) {
      if (lease.next.allowance > 0)
        this.owe({
          tenant: this.tenant,
          limit: lease.limit,
          periodId: lease.next.periodId,
          units: -lease.next.allowance,
        });
      returned += Math.max(0, lease.next.allowance);
      lease.next = undefined;
    }
    return returned;
  }

  /** When a lease's prefetched next period has begun, its allowance becomes the lease. True when it now covers
   * `periodId`. */
  private promote(lease: Lease, periodId: string): boolean {
    const next = lease.next;
    if (!next || next.periodId !== periodId) return false;
    if (lease.allowance > 0)
      this.owe({
        tenant: this.tenant,
        limit: lease.limit,
        periodId: lease.periodId,
        units: -lease.allowance,
      });
    const period = grantPeriod(lease.limit, next.resetAtMs - 1);
    const pace = lease.spentSinceGrant / Math.max(1_000, lease.validUntilMs - lease.grantedAtMs);
    lease.ratePerMs = lease.ratePerMs > 0 ? (lease.ratePerMs + pace) / 2 : pace;
    lease.periodId = next.periodId;
    lease.allowance = next.allowance;
    lease.storeAvailable = next.storeAvailable;
    lease.resetAtMs = next.resetAtMs;
    lease.validUntilMs = period.endMs;
    lease.grantedAtMs = period.startMs;
    lease.spentSinceGrant = 0;
    lease.next = undefined;
    return true;
  }

  /** Counts units admitted under an async limit; true when this starts the period's count (it syncs at once). */
  countAsync(limit: LimitSpec, units: number, now: number): boolean {
    const cur = this.count(limit, now);
    if (cur) {
      cur.unsynced += units;
      return false;
    }
    const old = this.counts.get(limit.id);
    if (old && old.unsynced > 0)
      this.owe({ tenant: this.tenant, limit: old.limit, periodId: old.periodId, units: old.unsynced });
    const period = grantPeriod(limit, now);
    this.counts.set(limit.id, {
      limit,
      periodId: period.id,
      periodEndMs: period.endMs,
      known: 0,
      unsynced: units,
      sending: 0,
    });
    return true;
  }

  /** Counts units admitted without the store: owed to it, and counted against the degraded share. */
  admitOffline(limit: LimitSpec, units: number, now: number): void {
    const periodId = grantPeriod(limit, now).id;
    this.owe({ tenant: this.tenant, limit, periodId, units });
    const o = this.offline.get(limit.id);
    if (o && o.periodId === periodId) o.units += units;
    else this.offline.set(limit.id, { limit, periodId, units });
  }

  /** Units admitted without the store in the current periods of these limits (fail-open or degraded debts): an
   * exchange for them settles these first, so that no grant ignores them. They leave the book; the caller owes them
   * back if it cannot send them. Returns (negative) wait for the batched flush: sending them here would cost a round
   * trip per exchange, and a return that waits can only leave the store counting more, never admit more. */
  takeDebts(limits: LimitSpec[], now: number): UsageDelta[] {
    const out: UsageDelta[] = [];
    for (const limit of limits) {
      const k = deltaKey(limit.id, grantPeriod(limit, now).id);
      const d = this.owed.get(k);
      if (d && d.units > 0) {
        out.push(d);
        this.owed.delete(k);
      }
    }
    return out;
  }

  deny(limit: LimitSpec, d: Denial): void {
    this.denials.set(limit.id, d);
  }

  /** After an admin change of tier or overrides: the cached plan and denials go (a new limit may lift them); leases
   * and counts stay, and roll() returns what was granted under an old amount. */
  forgetPlan(): void {
    this.plan = undefined;
    this.denials.clear();
  }

  /** Everything the book still holds goes to `owed`: leases' allowance (next periods included), unsent counts. */
  settle(now: number): void {
    for (const lease of this.leases.values()) this.returnLease(lease, now, true);
    for (const a of this.counts.values()) {
      if (a.unsynced > 0)
        this.owe({ tenant: this.tenant, limit: a.limit, periodId: a.periodId, units: a.unsynced });
      a.unsynced = 0;
    }
  }

  /** Around an admin reset of the tenant's usage: allowance and owed deltas of the current periods are dropped, not
   * returned (those counters are being zeroed); allowance prefetched for a next period goes back. */
  discardCurrent(now: number): void {
    for (const [k, d] of this.owed) if (d.periodId === grantPeriod(d.limit, now).id) this.owed.delete(k);
    for (const lease of this.leases.values()) {
      const next = lease.next;
      if (next && next.allowance > 0 && next.periodId !== grantPeriod(lease.limit, now).id)
        this.owe({
          tenant: this.tenant,
          limit: lease.limit,
          periodId: next.periodId,
          units: -next.allowance,
        });
    }
    this.leases.clear();
    this.denials.clear();
    this.counts.clear();
  }
}
