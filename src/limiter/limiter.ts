// The decision: isolate cache (leases, denials, async counters) -> store -> decision, with the failure policy and
// flush scheduling. Exactness (DESIGN §7.1) rests on one rule: a unit is admitted only out of allowance the store
// granted for the same period, and check-and-spend runs with no `await` in between.
import { leaseWant } from "../algorithms/lease-sizing.ts";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { TtlLru } from "../cache/ttl-lru.ts";
import type { Clock } from "../core/clock.ts";
import type { Cost, Decision, LimitSpec, LimitState, Plan } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AcquireItem, AcquireResult, Store, UsageDelta } from "../store/store.ts";

export type WaitUntil = (p: Promise<unknown>) => void;

export interface LimiterOptions {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  /** Entries in the isolate cache (plans, leases, denials, async counters). */
  cacheSize: number;
  /** Byte budget of the isolate cache. */
  cacheBytes?: number;
  /** How long a denial or a plan is trusted without asking the store again. */
  cacheTtlMs: number;
  /** How long a request waits for a store round trip (its own or a coalesced one). */
  storeTimeoutMs: number;
  /** Longest span of traffic one lease covers (beyond the next forced exchange). */
  leaseHorizonMs?: number;
  /** Unused allowance idle this long is returned at the next flush. */
  leaseIdleMs?: number;
  /** Flushes (returns, async counts, stats) ride on requests at most this often. */
  flushIntervalMs?: number;
  /** Fleet stats and returns to periods already over are sent at most this often (they cost commands, not
   * exactness: nothing can be admitted in a past period). */
  lazyFlushIntervalMs?: number;
  /** Validity of a token-bucket lease: tokens taken from the bucket must be spent soon after. */
  bucketLeaseMs?: number;
  /** How early, before a calendar window ends, the next window's allowance is fetched in the background. */
  prefetchMs?: number;
}

interface Lease {
  kind: "lease";
  tenant: string;
  limit: LimitSpec;
  periodId: string;
  /** The lease may be spent until then (period end; for a bucket, a short validity). */
  validUntilMs: number;
  /** Units this isolate may still admit. */
  allowance: number;
  /** Units the store had left after the last grant (for remaining/headers). */
  storeAvailable: number;
  resetAtMs: number;
  grantedAtMs: number;
  spentSinceGrant: number;
  lastUsedMs: number;
  /** Units per ms this isolate spent between its grants, carried across periods (sizes the next lease). */
  ratePerMs: number;
  /** Units of the last grant (the next may be at most twice as large). */
  lastGrant: number;
  /** Allowance fetched ahead for the next calendar period, promoted when that period starts. */
  next: { periodId: string; allowance: number; storeAvailable: number; resetAtMs: number } | undefined;
}

interface AsyncCounter {
  kind: "async";
  tenant: string;
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

interface Denial {
  kind: "denial";
  /** Until then this isolate denies without asking the store (at most the cache TTL). */
  untilMs: number;
  /** When the store said the request may fit again (what Retry-After reports). */
  retryAtMs: number;
  /** Units this isolate could have had when the store denied (the store's available plus what it held): only a
   * request costing more is denied from the cache; a smaller one may still fit and goes on to the lease or store. */
  available: number;
}

interface CachedPlan {
  kind: "plan";
  plan: Plan;
}

type Entry = Lease | AsyncCounter | Denial | CachedPlan;

const FLEET_COUNTERS = ["allowed", "denied", "store_calls", "cache_hits", "cache_misses"] as const;
export type FleetCounter = (typeof FLEET_COUNTERS)[number];

const leaseKey = (tenant: string, limit: LimitSpec) => `l\u0000${tenant}\u0000${limit.id}`;
const asyncKey = (tenant: string, limit: LimitSpec) => `a\u0000${tenant}\u0000${limit.id}`;
const denialKey = (tenant: string, limit: LimitSpec) => `d\u0000${tenant}\u0000${limit.id}`;
const planKey = (tenant: string) => `p\u0000${tenant}`;
const deltaKey = (d: Pick<UsageDelta, "tenant" | "limit" | "periodId">) =>
  `${d.tenant}\u0000${d.limit.id}\u0000${d.periodId}`;

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Only calendar windows are fetched ahead: a sliding window's next bucket depends on what the current one still
 * admits, and a bucket has no next period. */
const prefetchable = (l: LimitSpec) => l.sync === "strict" && l.window.kind === "fixed";

export class Limiter {
  readonly store: Store;
  readonly metrics: Metrics;
  readonly cache: TtlLru<Entry>;
  private readonly clock: Clock;
  private readonly o: Required<Omit<LimiterOptions, "store" | "clock" | "metrics">>;
  /** Deltas waiting for the next flush, merged per (tenant, limit, period) so they stay bounded. */
  private readonly pending = new Map<string, UsageDelta>();
  private readonly inflight = new Map<string, Promise<AcquireResult>>();
  private readonly prefetching = new Set<string>();
  private readonly fleet = Object.fromEntries(FLEET_COUNTERS.map((c) => [c, 0])) as Record<
    FleetCounter,
    number
  >;
  private id: string | undefined;
  private flushing: Promise<void> | null = null;
  private lastFlushAtMs: number;
  private lastLazyFlushAtMs: number;
  private flushSoon = false;

  constructor(opts: LimiterOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.metrics = opts.metrics;
    this.o = {
      cacheSize: opts.cacheSize,
      cacheBytes: opts.cacheBytes ?? Math.max(1 << 20, opts.cacheSize * 512),
      cacheTtlMs: opts.cacheTtlMs,
      storeTimeoutMs: opts.storeTimeoutMs,
      leaseHorizonMs: opts.leaseHorizonMs ?? 60_000,
      leaseIdleMs: opts.leaseIdleMs ?? 30_000,
      flushIntervalMs: opts.flushIntervalMs ?? 10_000,
      lazyFlushIntervalMs: opts.lazyFlushIntervalMs ?? 300_000,
      bucketLeaseMs: opts.bucketLeaseMs ?? 1_000,
      prefetchMs: opts.prefetchMs ?? 5_000,
    };
    this.lastFlushAtMs = this.clock.now();
    this.lastLazyFlushAtMs = this.lastFlushAtMs;
    this.cache = new TtlLru<Entry>({
      maxEntries: this.o.cacheSize,
      maxBytes: this.o.cacheBytes,
      ttlMs: this.o.cacheTtlMs,
      clock: this.clock,
      sizeOf: (k, v) => 2 * k.length + (v.kind === "plan" ? 64 + 96 * v.plan.limits.length : 96),
      // An evicted lease's allowance goes back at the next flush; an evicted async count is sent then.
      onEvict: (_k, v) => this.settle(v),
      // Likewise when one expires: with no timers in Workers, the next flush may come long after a lease's period,
      // and what it holds must still go back (DESIGN §7.4).
      onExpire: (_k, v) => this.settle(v),
    });
  }

  /** Queues what an entry leaving the cache still owes the store: a lease's unused allowance, unsent async counts. */
  private settle(v: Entry): void {
    if (v.kind === "lease") this.returnLease(v, true);
    if (v.kind === "async" && v.unsynced > 0)
      this.queue({ tenant: v.tenant, limit: v.limit, periodId: v.periodId, units: v.unsynced });
  }

  /** Identifies this isolate to the store's sharer registry (fair split of what is left near a limit). Made on first
   * use: Workers forbid random values at global scope, where the limiter is built. */
  get isolateId(): string {
    this.id ??= Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    return this.id;
  }

  /** Cached plan lookup: `load` runs on a miss and its result is kept for the cache TTL; when it fails (store
   * down) `fallback` (the policy alone) serves for a few seconds. */
  async plan(tenant: string, load: () => Promise<Plan>, fallback: () => Plan): Promise<Plan> {
    const hit = this.cache.get(planKey(tenant));
    if (hit?.kind === "plan") {
      this.metrics.inc("quotagate_cache_hits_total", { kind: "plan" });
      return hit.plan;
    }
    this.metrics.inc("quotagate_cache_misses_total", { kind: "plan" });
    this.metrics.inc("quotagate_store_calls_total", { op: "tenant" });
    this.fleet.store_calls++;
    try {
      const plan = await withTimeout(load(), this.o.storeTimeoutMs);
      this.cache.set(planKey(tenant), { kind: "plan", plan });
      return plan;
    } catch {
      this.metrics.inc("quotagate_store_errors_total", { op: "tenant" });
      const plan = fallback();
      this.cache.set(planKey(tenant), { kind: "plan", plan }, Math.min(5_000, this.o.cacheTtlMs));
      return plan;
    }
  }

  warmPlan(plan: Plan): void {
    this.cache.set(planKey(plan.tenant), { kind: "plan", plan });
  }

  forgetTenant(tenant: string): void {
    this.cache.delete(planKey(tenant));
    for (const [k] of [...this.cache.entries()])
      if (k.split("\u0000")[1] === tenant && !k.startsWith("l")) this.cache.delete(k);
  }

  /** Decides a request: all of its limits at once, all or nothing. */
  async decide(plan: Plan, cost: Cost, waitUntil: WaitUntil): Promise<Decision> {
    const touched = plan.limits.filter((l) => (cost[l.dimension] ?? 0) > 0);
    let now = this.clock.now();
    const local = this.tryLocal(plan, touched, cost, now);
    if (local) {
      if (local.allowed) this.maybePrefetch(plan, touched, now, waitUntil);
      return this.finish(local, now, waitUntil);
    }

    // Coalesce: while a refill for this tenant is under way, wait for it (bounded) and look again.
    for (let i = 0; i < 4; i++) {
      const running = this.inflight.get(plan.tenant);
      if (!running) break;
      try {
        await withTimeout(running, this.o.storeTimeoutMs);
      } catch {
        break; // the owner applies the failure policy for itself; we go on with our own attempt
      }
      now = this.clock.now();
      const again = this.tryLocal(plan, touched, cost, now);
      if (again) return this.finish(again, now, waitUntil);
    }
    return this.finish(await this.refill(plan, touched, cost, waitUntil), this.clock.now(), waitUntil);
  }

  /** Decision from isolate state alone (no I/O), or null when the store must be asked. */
  private tryLocal(plan: Plan, touched: LimitSpec[], cost: Cost, now: number): Decision | null {
    let retryAt = 0;
    for (const l of touched) {
      if (l.mode !== "enforce") continue;
      const d = this.cache.peek(denialKey(plan.tenant, l));
      if (d?.kind === "denial" && d.untilMs > now && (cost[l.dimension] ?? 0) > d.available)
        retryAt = Math.max(retryAt, d.retryAtMs);
    }
    if (retryAt > 0) {
      this.metrics.inc("quotagate_cache_hits_total", { kind: "denial" });
      return this.denial(plan, touched, cost, now, retryAt, true);
    }
    // Async limits decide locally in every case.
    const asyncDeny = this.asyncDenial(plan, touched, cost, now);
    if (asyncDeny) return asyncDeny;
    for (const l of touched) {
      if (l.sync !== "strict") continue;
      const lease = this.validLease(plan.tenant, l, now);
      if (!lease || lease.allowance < (cost[l.dimension] ?? 0)) {
        this.metrics.inc("quotagate_cache_misses_total", { kind: "lease" });
        return null;
      }
    }
    // Every limit fits: spend (synchronously, right after the check).
    for (const l of touched) {
      const c = cost[l.dimension] ?? 0;
      if (l.sync === "strict") {
        const lease = this.validLease(plan.tenant, l, now)!;
        lease.allowance -= c;
        lease.spentSinceGrant += c;
        lease.lastUsedMs = now;
      } else {
        this.spendAsync(plan.tenant, l, c, now);
      }
    }
    this.metrics.inc("quotagate_cache_hits_total", { kind: "lease" });
    return {
      allowed: true,
      reason: "ok",
      tenant: plan.tenant,
      tier: plan.tier,
      states: this.states(plan, touched, cost, now),
      local: true,
    };
  }

  /** Units per ms this isolate spent on a limit lately (0 when unknown): the last grant's pace, else the carried rate. */
  private rateOf(tenant: string, limit: LimitSpec, now: number): number {
    const v = this.cache.peek(leaseKey(tenant, limit));
    if (v?.kind !== "lease") return 0;
    // Over a short span the pace is noisy, so it counts as at least 250 ms: a burst right after a grant still
    // grows the next lease quickly (a hot tenant reaches full-size leases in a few exchanges).
    const recent = v.spentSinceGrant / Math.max(250, now - v.grantedAtMs);
    // Smoothed with the carried rate, so that one burst does not size every later lease.
    return v.ratePerMs > 0 ? (recent + v.ratePerMs) / 2 : recent;
  }

  /**
   * Lease requests for a set of limits. A long window's lease lasts until one horizon past the next forced exchange
   * (the end of the request's shortest calendar window), so both are refreshed in the same round trip.
   */
  private leaseItems(tenant: string, limits: LimitSpec[], needs: number[], atMs: number): AcquireItem[] {
    const left = limits.map((l) =>
      l.window.kind === "bucket" ? this.o.bucketLeaseMs : grantPeriod(l, atMs).endMs - atMs,
    );
    const shortest = Math.min(...left);
    const horizon =
      shortest < this.o.leaseHorizonMs ? shortest + this.o.leaseHorizonMs : this.o.leaseHorizonMs;
    return limits.map((l, i) => {
      const initialUnits = Math.max(1, Math.min(64, Math.ceil(l.limit / 100)));
      const held = this.cache.peek(leaseKey(tenant, l));
      // Leases at most double from one grant to the next (like TCP slow start): a hot isolate reaches full size in
      // a few exchanges, and every isolate drawing hard on a limit has registered as a sharer before grants get big.
      const ceiling = needs[i]! + 2 * Math.max(initialUnits, held?.kind === "lease" ? held.lastGrant : 0);
      const want = leaseWant({
        limit: l,
        need: needs[i]!,
        ratePerMs: this.rateOf(tenant, l, atMs),
        periodLeftMs: left[i]!,
        maxHorizonMs: horizon,
        initialUnits,
      });
      return { limit: l, min: needs[i]!, want: Math.max(needs[i]!, Math.min(want, ceiling)) };
    });
  }

  private async refill(
    plan: Plan,
    touched: LimitSpec[],
    cost: Cost,
    waitUntil: WaitUntil,
  ): Promise<Decision> {
    const now = this.clock.now();
    const asyncDeny = this.asyncDenial(plan, touched, cost, now);
    if (asyncDeny) return asyncDeny;
    const allStrict = touched.filter((l) => l.sync === "strict");
    // Reserve what this isolate already holds before awaiting, so interleaved requests cannot spend it twice.
    const allReserved = allStrict.map((l) => {
      const lease = this.validLease(plan.tenant, l, now);
      const take = lease ? Math.min(lease.allowance, cost[l.dimension] ?? 0) : 0;
      if (lease) lease.allowance -= take;
      return take;
    });
    const allItems = this.leaseItems(
      plan.tenant,
      allStrict,
      allStrict.map((l, i) => (cost[l.dimension] ?? 0) - allReserved[i]!),
      now,
    );
    // A limit this request is covered for, whose lease still holds what it would ask for, stays out of the
    // exchange: no store work for it (a long window is then topped up by a later exchange).
    const send = allItems.map(
      (it, i) => it.min > 0 || (this.validLease(plan.tenant, allStrict[i]!, now)?.allowance ?? 0) < it.want,
    );
    const reserved = allReserved.filter((_, i) => send[i]);
    const items = allItems.filter((_, i) => send[i]);
    const unreserve = () => {
      allStrict.forEach((l, i) => {
        if (allReserved[i] === 0) return;
        const lease = this.validLease(plan.tenant, l, now);
        if (lease) lease.allowance += allReserved[i]!;
        else
          this.queue({
            tenant: plan.tenant,
            limit: l,
            periodId: grantPeriod(l, now).id,
            units: -allReserved[i]!,
          });
      });
    };

    const started = Date.now();
    const call = this.store.acquire(plan.tenant, items, now, this.isolateId);
    this.inflight.set(plan.tenant, call);
    // The I/O belongs to this request: keep it alive for the waiters even if this request ends first.
    waitUntil(call.catch(() => undefined));
    this.metrics.inc("quotagate_store_calls_total", { op: "acquire" });
    this.fleet.store_calls++;
    let res: AcquireResult;
    try {
      res = await withTimeout(call, this.o.storeTimeoutMs);
      this.metrics.observe("quotagate_store_latency_seconds", (Date.now() - started) / 1000, {
        op: "acquire",
      });
    } catch (err) {
      this.metrics.inc("quotagate_store_errors_total", { op: "acquire" });
      if (err instanceof TimeoutError) {
        // If the store answers after we gave up, its grant is returned rather than stranded.
        call.then(
          (late) => this.returnGrant(plan.tenant, items, late),
          () => undefined,
        );
      }
      unreserve();
      return this.onStoreFailure(plan, touched, cost, now);
    } finally {
      if (this.inflight.get(plan.tenant) === call) this.inflight.delete(plan.tenant);
    }

    const after = this.clock.now();
    if (!res.ok) {
      unreserve();
      // Concurrent refills of this isolate may have filled the lease meanwhile: what the store refused us may be here.
      const local = this.tryLocal(plan, touched, cost, after);
      if (local?.allowed) return local;
      let retryAt = after;
      res.items.forEach((g, i) => {
        const it = items[i]!;
        if (it.limit.mode === "enforce" && g.available < it.min) {
          retryAt = Math.max(retryAt, g.retryAtMs);
          // Cache the denial (bounded by the cache TTL: other isolates may return allowance sooner).
          const until = Math.min(g.retryAtMs, after + this.o.cacheTtlMs);
          if (until > after)
            this.cache.set(
              denialKey(plan.tenant, it.limit),
              {
                kind: "denial",
                untilMs: until,
                retryAtMs: g.retryAtMs,
                available: g.available + reserved[i]!,
              },
              until - after,
            );
        }
        this.absorb(plan.tenant, it.limit, g.periodId, 0, g.available, g.resetAtMs, after);
      });
      return this.denial(plan, touched, cost, after, retryAt, false);
    }
    this.metrics.inc("quotagate_lease_grants_total");
    res.items.forEach((g, i) => {
      const l = items[i]!.limit;
      const c = cost[l.dimension] ?? 0;
      this.metrics.inc("quotagate_lease_units_granted_total", {}, g.granted);
      const lease = this.absorb(
        plan.tenant,
        l,
        g.periodId,
        reserved[i]! + g.granted - c,
        g.available,
        g.resetAtMs,
        after,
      );
      lease.spentSinceGrant = c;
      lease.lastGrant = g.granted;
      lease.grantedAtMs = after;
      lease.lastUsedMs = after;
    });
    allStrict.forEach((l, i) => {
      if (send[i]) return;
      // Covered from the lease: the reserved units are this request's.
      const lease = this.validLease(plan.tenant, l, after);
      if (lease) {
        lease.spentSinceGrant += cost[l.dimension] ?? 0;
        lease.lastUsedMs = after;
      }
    });
    for (const l of touched)
      if (l.sync === "async") this.spendAsync(plan.tenant, l, cost[l.dimension] ?? 0, after);
    return {
      allowed: true,
      reason: "ok",
      tenant: plan.tenant,
      tier: plan.tier,
      states: this.states(plan, touched, cost, after),
      local: false,
    };
  }

  /**
   * Near the end of a calendar window, fetch the next window's allowance in the background (waitUntil), so a steady
   * tenant never waits for the store at the boundary. Calendar windows only; the grant is exact like any other.
   */
  private maybePrefetch(plan: Plan, touched: LimitSpec[], now: number, waitUntil: WaitUntil): void {
    if (this.prefetching.has(plan.tenant) || this.inflight.has(plan.tenant)) return;
    let boundary = Number.POSITIVE_INFINITY;
    for (const l of touched) {
      if (!prefetchable(l)) continue;
      const lease = this.validLease(plan.tenant, l, now);
      if (!lease || lease.next) continue;
      const p = grantPeriod(l, now);
      const lead = Math.min(this.o.prefetchMs, (p.endMs - p.startMs) / 10);
      if (p.endMs - now <= lead) boundary = Math.min(boundary, p.endMs);
    }
    if (boundary === Number.POSITIVE_INFINITY) return;
    const limits = touched.filter(prefetchable);
    // A long window that goes on past the boundary joins only when its lease runs low.
    const items = this.leaseItems(
      plan.tenant,
      limits,
      limits.map(() => 0),
      boundary,
    ).filter((it) => {
      const lease = this.validLease(plan.tenant, it.limit, now);
      return !lease || lease.periodId !== grantPeriod(it.limit, boundary).id || lease.allowance < it.want;
    });
    if (items.length === 0) return;
    this.prefetching.add(plan.tenant);
    this.metrics.inc("quotagate_store_calls_total", { op: "prefetch" });
    this.fleet.store_calls++;
    const call = this.store.acquire(plan.tenant, items, boundary, this.isolateId).then(
      (res) => {
        if (!res.ok) return;
        this.metrics.inc("quotagate_lease_grants_total");
        res.items.forEach((g, i) => {
          const l = items[i]!.limit;
          this.metrics.inc("quotagate_lease_units_granted_total", {}, g.granted);
          const lease = this.cache.peek(leaseKey(plan.tenant, l));
          const current = lease?.kind === "lease" ? lease : undefined;
          if (current && current.periodId === g.periodId) {
            current.allowance += g.granted; // a long window whose period goes on: a top-up
            current.storeAvailable = g.available;
            current.lastGrant = Math.max(current.lastGrant, g.granted);
          } else if (current && !current.next) {
            current.lastGrant = Math.max(current.lastGrant, g.granted);
            current.next = {
              periodId: g.periodId,
              allowance: g.granted,
              storeAvailable: g.available,
              resetAtMs: g.resetAtMs,
            };
          } else if (g.granted > 0) {
            this.queue({ tenant: plan.tenant, limit: l, periodId: g.periodId, units: -g.granted });
          }
        });
      },
      () => {
        this.metrics.inc("quotagate_store_errors_total", { op: "prefetch" });
      },
    );
    waitUntil(call.finally(() => this.prefetching.delete(plan.tenant)));
  }

  /** Puts a grant's units into the lease of its period (a lease of an older period is returned first). */
  private absorb(
    tenant: string,
    limit: LimitSpec,
    periodId: string,
    units: number,
    storeAvailable: number,
    resetAtMs: number,
    now: number,
  ): Lease {
    const key = leaseKey(tenant, limit);
    const cur = this.cache.peek(key);
    const old = cur?.kind === "lease" ? cur : undefined;
    let lease = old;
    if (old && old.periodId !== periodId) {
      lease = this.promote(old, periodId) ? old : undefined;
    }
    // A lease past its validity (a token bucket's: its single period never ends) must not carry its stale units into
    // the new grant, or an isolate could admit more than the burst at once: they are settled first (see returnLease).
    if (lease && now >= lease.validUntilMs) this.returnLease(lease, false);
    const validUntilMs =
      limit.window.kind === "bucket" ? now + this.o.bucketLeaseMs : grantPeriod(limit, now).endMs;
    if (!lease) {
      if (old) this.returnLease(old, true);
      lease = {
        kind: "lease",
        tenant,
        limit,
        periodId,
        validUntilMs,
        allowance: 0,
        storeAvailable,
        resetAtMs,
        grantedAtMs: now,
        spentSinceGrant: 0,
        lastUsedMs: now,
        ratePerMs: old ? this.rateOf(tenant, limit, now) : 0,
        lastGrant: old?.lastGrant ?? 0,
        next: undefined,
      };
    }
    if (lease.grantedAtMs < now && lease.spentSinceGrant > 0)
      lease.ratePerMs = this.rateOf(tenant, limit, now);
    lease.allowance += units;
    lease.storeAvailable = storeAvailable;
    lease.resetAtMs = resetAtMs;
    lease.validUntilMs = validUntilMs;
    this.keep(lease, now);
    return lease;
  }

  /** (Re)stores a lease with a TTL past its period, so that the flush can still return what it holds. */
  private keep(lease: Lease, now: number): void {
    const ttl = Math.max(lease.validUntilMs - now, 0) + this.o.leaseIdleMs + this.o.lazyFlushIntervalMs;
    this.cache.set(leaseKey(lease.tenant, lease.limit), lease, ttl);
  }

  /** When a lease's prefetched next period has begun, its allowance becomes the lease; the old period's leftover
   * goes back to the store. Returns true when the lease now covers `periodId`. */
  private promote(lease: Lease, periodId: string): boolean {
    const next = lease.next;
    if (!next || next.periodId !== periodId) return false;
    if (lease.allowance > 0)
      this.queue({
        tenant: lease.tenant,
        limit: lease.limit,
        periodId: lease.periodId,
        units: -lease.allowance,
      });
    const pace = lease.spentSinceGrant / Math.max(1_000, lease.validUntilMs - lease.grantedAtMs);
    lease.ratePerMs = lease.ratePerMs > 0 ? (lease.ratePerMs + pace) / 2 : pace;
    lease.periodId = next.periodId;
    lease.allowance = next.allowance;
    lease.storeAvailable = next.storeAvailable;
    lease.resetAtMs = next.resetAtMs;
    lease.validUntilMs = grantPeriod(lease.limit, next.resetAtMs - 1).endMs;
    lease.grantedAtMs = grantPeriod(lease.limit, next.resetAtMs - 1).startMs;
    lease.spentSinceGrant = 0;
    lease.next = undefined;
    this.keep(lease, lease.grantedAtMs);
    return true;
  }

  private validLease(tenant: string, limit: LimitSpec, now: number): Lease | undefined {
    const v = this.cache.peek(leaseKey(tenant, limit));
    if (v?.kind !== "lease") return undefined;
    if (v.limit.limit !== limit.limit || v.limit.mode !== limit.mode) {
      // The tenant's plan changed (tier or override): allowance granted under the old amount goes back, and the
      // next exchange grants under the new one (a lowered limit must not be spent past).
      this.returnLease(v, true);
      this.cache.delete(leaseKey(tenant, limit));
      return undefined;
    }
    const periodId = grantPeriod(limit, now).id;
    if (v.periodId !== periodId && !this.promote(v, periodId)) return undefined;
    if (now >= v.validUntilMs) return undefined;
    return v;
  }

  /** Queues a lease's unused allowance (and its prefetched next period's) for return at a flush. */
  private returnLease(lease: Lease, includeNext: boolean): void {
    // A token bucket refills in the place of tokens held past the lease's validity: given back then (after the bucket
    // may have refilled and been drained again), they would let it admit more than its burst. They are dropped.
    const lapsedBucket = lease.limit.window.kind === "bucket" && this.clock.now() >= lease.validUntilMs;
    if (lease.allowance > 0 && !lapsedBucket) {
      this.queue({
        tenant: lease.tenant,
        limit: lease.limit,
        periodId: lease.periodId,
        units: -lease.allowance,
      });
      this.metrics.inc("quotagate_lease_units_returned_total", {}, lease.allowance);
    }
    lease.allowance = 0;
    if (includeNext && lease.next && lease.next.allowance > 0) {
      this.queue({
        tenant: lease.tenant,
        limit: lease.limit,
        periodId: lease.next.periodId,
        units: -lease.next.allowance,
      });
      this.metrics.inc("quotagate_lease_units_returned_total", {}, lease.next.allowance);
      lease.next = undefined;
    }
  }

  private returnGrant(tenant: string, items: AcquireItem[], res: AcquireResult): void {
    if (!res.ok) return;
    res.items.forEach((g, i) => {
      if (g.granted > 0)
        this.queue({ tenant, limit: items[i]!.limit, periodId: g.periodId, units: -g.granted });
    });
  }

  private asyncCounter(tenant: string, l: LimitSpec, now: number): AsyncCounter {
    const key = asyncKey(tenant, l);
    const period = grantPeriod(l, now);
    const v = this.cache.peek(key);
    if (v?.kind === "async" && v.periodId === period.id) return v;
    if (v?.kind === "async" && v.unsynced > 0)
      this.queue({ tenant, limit: l, periodId: v.periodId, units: v.unsynced });
    const fresh: AsyncCounter = {
      kind: "async",
      tenant,
      limit: l,
      periodId: period.id,
      periodEndMs: period.endMs,
      known: 0,
      unsynced: 0,
      sending: 0,
    };
    this.cache.set(key, fresh, period.endMs - now + this.o.lazyFlushIntervalMs);
    this.flushSoon = true; // seed 002: the first request of a window syncs
    return fresh;
  }

  private asyncDenial(plan: Plan, touched: LimitSpec[], cost: Cost, now: number): Decision | null {
    for (const l of touched) {
      if (l.sync !== "async" || l.mode !== "enforce") continue;
      const a = this.asyncCounter(plan.tenant, l, now);
      if (a.known + a.sending + a.unsynced + (cost[l.dimension] ?? 0) > l.limit) {
        return this.denial(plan, touched, cost, now, a.periodEndMs, true);
      }
    }
    return null;
  }

  private spendAsync(tenant: string, l: LimitSpec, units: number, now: number): void {
    const a = this.asyncCounter(tenant, l, now);
    a.unsynced += units;
  }

  private onStoreFailure(plan: Plan, touched: LimitSpec[], cost: Cost, now: number): Decision {
    if (plan.failure === "closed") {
      return {
        allowed: false,
        reason: "store_unavailable",
        tenant: plan.tenant,
        tier: plan.tier,
        states: this.states(plan, touched, cost, now),
        retryAtMs: now + 1_000,
        local: true,
      };
    }
    // Fail open: admit, and settle the admitted units with the store at a later flush (invariant 4).
    for (const l of touched) {
      const c = cost[l.dimension] ?? 0;
      if (l.sync === "strict")
        this.queue({ tenant: plan.tenant, limit: l, periodId: grantPeriod(l, now).id, units: c });
      else this.spendAsync(plan.tenant, l, c, now);
    }
    return {
      allowed: true,
      reason: "fail_open",
      tenant: plan.tenant,
      tier: plan.tier,
      states: this.states(plan, touched, cost, now),
      local: true,
    };
  }

  private denial(
    plan: Plan,
    touched: LimitSpec[],
    cost: Cost,
    now: number,
    retryAtMs: number,
    local: boolean,
  ): Decision {
    return {
      allowed: false,
      reason: "limit",
      tenant: plan.tenant,
      tier: plan.tier,
      states: this.states(plan, touched, cost, now),
      retryAtMs,
      local,
    };
  }

  /** What the isolate knows of each limit: the store's last answer plus the allowance still held here. */
  private states(plan: Plan, touched: LimitSpec[], cost: Cost, now: number): LimitState[] {
    return touched.map((l) => {
      const c = cost[l.dimension] ?? 0;
      const d = this.cache.peek(denialKey(plan.tenant, l));
      const denied = d?.kind === "denial" && d.untilMs > now && c > d.available;
      if (l.sync === "async") {
        const a = this.asyncCounter(plan.tenant, l, now);
        const raw = l.limit - a.known - a.sending - a.unsynced;
        // A shadow limit is counted even past its limit: it would have denied when the count went below 0.
        const exceeded = l.mode === "shadow" ? raw < 0 : raw < c;
        return { limit: l, cost: c, remaining: Math.max(0, raw), resetAtMs: a.periodEndMs, exceeded };
      }
      const lease = this.validLease(plan.tenant, l, now);
      const period = grantPeriod(l, now);
      if (!lease)
        return {
          limit: l,
          cost: c,
          remaining: denied ? 0 : l.limit,
          resetAtMs: period.endMs,
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

  private finish(d: Decision, now: number, waitUntil: WaitUntil): Decision {
    const outcome = d.allowed ? "allowed" : "denied";
    this.metrics.inc("quotagate_decisions_total", { outcome, reason: d.reason });
    if (d.local) this.metrics.inc("quotagate_local_decisions_total");
    this.fleet[d.allowed ? "allowed" : "denied"]++;
    this.fleet[d.local ? "cache_hits" : "cache_misses"]++;
    for (const s of d.states)
      if (s.limit.mode === "shadow" && s.exceeded) this.metrics.inc("quotagate_shadow_denials_total");
    this.maybeFlush(now, waitUntil);
    return d;
  }

  /** Records a decision taken without the limiter (quotas disabled, exempt routes are not counted). */
  count(outcome: "allowed" | "denied"): void {
    this.fleet[outcome]++;
  }

  private queue(d: UsageDelta): void {
    const k = deltaKey(d);
    const cur = this.pending.get(k);
    if (cur) cur.units += d.units;
    else this.pending.set(k, { ...d });
  }

  maybeFlush(now: number, waitUntil: WaitUntil): void {
    if (this.flushing) return;
    const since = now - this.lastFlushAtMs;
    // The first request of an async window syncs at once (seed 002); a large backlog asks for an early flush, but
    // not more than one a second.
    if (this.flushSoon || since >= this.o.flushIntervalMs || (this.pending.size >= 1_000 && since >= 1_000)) {
      waitUntil(this.flush());
    }
  }

  /**
   * Sends lease returns, async counts, fail-open settlements and fleet stats in one round trip. What affects
   * enforcement (returns to periods still open, async counts, settlements) goes at every flush; what does not
   * (returns to periods already over, stats) waits for the lazy interval. `returnAll` gives back every lease's
   * unused allowance and sends everything (cache clear, tests). Never loses a delta: a failed flush re-queues it.
   */
  flush(opts: { returnAll?: boolean } = {}): Promise<void> {
    if (this.flushing) return opts.returnAll ? this.flushing.then(() => this.flush(opts)) : this.flushing;
    this.flushing = this.doFlush(opts.returnAll ?? false).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async doFlush(returnAll: boolean): Promise<void> {
    const now = this.clock.now();
    this.lastFlushAtMs = now;
    this.flushSoon = false;
    // A large backlog goes out whole: the deltas held for the lazy flush must not keep the backlog large.
    const lazyDue =
      returnAll || now - this.lastLazyFlushAtMs >= this.o.lazyFlushIntervalMs || this.pending.size >= 1_000;
    const sendingAsync: AsyncCounter[] = [];
    this.cache.prune(); // settles what expired entries still hold
    for (const [, e] of this.cache.entries()) {
      if (e.kind === "lease") {
        const expired = now >= e.validUntilMs || e.periodId !== grantPeriod(e.limit, now).id;
        if (returnAll || (expired && !e.next) || now - e.lastUsedMs >= this.o.leaseIdleMs)
          this.returnLease(e, true);
        else if (expired) this.returnLease(e, false);
      } else if (e.kind === "async" && (e.unsynced > 0 || e.known === 0)) {
        e.sending = e.unsynced;
        e.unsynced = 0;
        sendingAsync.push(e);
      }
    }
    const asyncDeltas: UsageDelta[] = sendingAsync.map((a) => ({
      tenant: a.tenant,
      limit: a.limit,
      periodId: a.periodId,
      units: a.sending,
    }));
    // Deltas to periods already over change no decision: they wait for the lazy flush.
    const deltas: UsageDelta[] = [];
    for (const [k, d] of this.pending) {
      const over =
        d.units < 0 && grantPeriod(d.limit, now).id !== d.periodId && d.limit.window.kind !== "bucket";
      if (d.units !== 0 && (lazyDue || !over)) deltas.push(d);
      if (lazyDue || !over || d.units === 0) this.pending.delete(k);
    }
    const counts: Record<string, number> = {};
    if (lazyDue) {
      for (const c of FLEET_COUNTERS) {
        if (this.fleet[c] > 0) counts[c] = this.fleet[c];
        this.fleet[c] = 0;
      }
    }
    if (deltas.length === 0 && asyncDeltas.length === 0 && Object.keys(counts).length === 0) return;
    if (lazyDue) this.lastLazyFlushAtMs = now;
    counts.store_calls = (counts.store_calls ?? 0) + 1;
    if (!lazyDue) this.fleet.store_calls++;
    const started = Date.now();
    this.metrics.inc("quotagate_store_calls_total", { op: "flush" });
    try {
      const totals = await withTimeout(
        this.store.flush({
          deltas: [...deltas, ...asyncDeltas],
          ...(lazyDue ? { stats: { dayId: grantPeriod(dayLimit, now).id, counts } } : {}),
          nowMs: now,
        }),
        this.o.storeTimeoutMs * 2,
      );
      this.metrics.observe("quotagate_store_latency_seconds", (Date.now() - started) / 1000, { op: "flush" });
      sendingAsync.forEach((a, i) => {
        a.known = totals[deltas.length + i] ?? a.known + a.sending;
        a.sending = 0;
      });
      this.metrics.inc("quotagate_flushes_total", { outcome: "ok" });
    } catch (err) {
      this.metrics.inc("quotagate_store_errors_total", { op: "flush" });
      this.metrics.inc("quotagate_flushes_total", { outcome: "error" });
      // After a timeout the store may have applied the batch without answering. Re-sending a return could then count
      // it twice and under-count usage (over-admission), so returns are dropped (at worst they strand units) while
      // positive deltas are re-sent (at worst counted twice: over-counting never over-admits). Any other failure
      // means nothing was applied, and everything is re-sent.
      const uncertain =
        err instanceof Error &&
        (err instanceof TimeoutError || err.name === "TimeoutError" || err.name === "AbortError");
      for (const d of deltas) if (!uncertain || d.units > 0) this.queue(d);
      for (const a of sendingAsync) {
        // A counter that left the cache meanwhile (evicted, expired, replaced by its next period) is settled here.
        if (this.cache.peek(asyncKey(a.tenant, a.limit)) === a) a.unsynced += a.sending;
        else this.queue({ tenant: a.tenant, limit: a.limit, periodId: a.periodId, units: a.sending });
        a.sending = 0;
      }
      if (lazyDue) {
        for (const [c, v] of Object.entries(counts))
          this.fleet[c as FleetCounter] += c === "store_calls" ? v - 1 : v;
      }
    }
  }

  /** Live usage of a tenant's limits: the store's count plus what this isolate still holds unspent. */
  async status(plan: Plan): Promise<LimitState[]> {
    const now = this.clock.now();
    this.metrics.inc("quotagate_store_calls_total", { op: "read" });
    this.fleet.store_calls++;
    const readings = await withTimeout(this.store.read(plan.tenant, plan.limits, now), this.o.storeTimeoutMs);
    return plan.limits.map((l, i) => {
      const r = readings[i]!;
      const lease = l.sync === "strict" ? this.validLease(plan.tenant, l, now) : undefined;
      const a = l.sync === "async" ? this.asyncCounter(plan.tenant, l, now) : undefined;
      const held = lease?.allowance ?? 0;
      const unsent = a ? a.unsynced + a.sending : 0;
      // Deltas not flushed yet: returns (negative) free units, settlements (positive) use them.
      const queued =
        this.pending.get(deltaKey({ tenant: plan.tenant, limit: l, periodId: grantPeriod(l, now).id }))
          ?.units ?? 0;
      const remaining = Math.min(l.limit, Math.max(0, r.available + held - unsent - queued));
      return { limit: l, cost: 0, remaining, resetAtMs: r.resetAtMs, exceeded: remaining <= 0 };
    });
  }

  /** Cache and counters of this isolate, for admin stats and health. */
  snapshot() {
    return {
      cacheSize: this.cache.size,
      cacheMaxSize: this.cache.maxEntries,
      cacheBytes: this.cache.byteSize,
      pendingDeltas: this.pending.size,
    };
  }

  /** Returns every lease, sends every count, then empties the isolate cache. */
  async clear(): Promise<void> {
    await this.flush({ returnAll: true });
    this.cache.clear();
  }

  /** The tenant's plan when this isolate has it cached (no I/O, no hit/miss counted). */
  cachedPlan(tenant: string): Plan | undefined {
    const v = this.cache.peek(planKey(tenant));
    return v?.kind === "plan" ? v.plan : undefined;
  }

  /** After an admin change of tier or overrides: drops the cached plan and cached denials (a new limit may lift
   * them). Leases and async counts stay: they hold units the store counted or that must still be sent. */
  forgetPlan(tenant: string): void {
    this.cache.delete(planKey(tenant));
    for (const [k] of [...this.cache.entries()])
      if (k.startsWith("d\u0000") && k.split("\u0000")[1] === tenant) this.cache.delete(k);
  }

  /** Allowance this isolate holds unspent for (tenant, limit, period): counted by the store, not spent yet. */
  heldAllowance(tenant: string, limit: LimitSpec, periodId: string): number {
    const v = this.cache.peek(leaseKey(tenant, limit));
    if (v?.kind !== "lease") return 0;
    return (
      (v.periodId === periodId ? v.allowance : 0) + (v.next?.periodId === periodId ? v.next.allowance : 0)
    );
  }

  /** Around an admin reset of the tenant's usage: drops everything this isolate holds for the tenant. Allowance and
   * pending deltas of the current periods are discarded, not returned (those counters are being zeroed); allowance
   * prefetched for a next period, which the reset leaves alone, goes back. */
  discardTenant(tenant: string): void {
    const now = this.clock.now();
    for (const [k, d] of [...this.pending])
      if (d.tenant === tenant && d.periodId === grantPeriod(d.limit, now).id) this.pending.delete(k);
    for (const [k, e] of [...this.cache.entries()]) {
      if (k.split("\u0000")[1] !== tenant) continue;
      const next = e.kind === "lease" ? e.next : undefined;
      if (e.kind === "lease" && next && next.allowance > 0 && next.periodId !== grantPeriod(e.limit, now).id)
        this.queue({ tenant, limit: e.limit, periodId: next.periodId, units: -next.allowance });
      this.cache.delete(k);
    }
  }
}

/** Stats are kept per UTC day. */
const dayLimit: LimitSpec = {
  id: "stats:day",
  name: "stats",
  dimension: "stats",
  window: { kind: "fixed", unit: "day" },
  limit: 1,
  mode: "shadow",
  sync: "async",
};

export function createLimiter(opts: LimiterOptions): Limiter {
  return new Limiter(opts);
}
