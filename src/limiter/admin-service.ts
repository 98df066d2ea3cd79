// The admin service: stats, usage listing, cache warm/clear, health, and tenant read/update/reset. It composes the
// store, the tenant books and the plan resolver, so admin routes never touch the store or isolate state themselves.
import { calendarPeriod, dateOfDayId, utcDate } from "../algorithms/calendar-window.ts";
import type { Clock } from "../core/clock.ts";
import { QuotaGateError } from "../core/errors.ts";
import type { LimitSpec, LimitState, Plan } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { type CompiledPolicy, compileLimit } from "../policy/compiled-policy.ts";
import type { TenantOverrides } from "../policy/policy-schema.ts";
import { USAGE_SHARDS } from "../store/keys.ts";
import type { Store, TenantRecord } from "../store/store.ts";
import { type FleetCounts, fleetCounts } from "./flusher.ts";
import type { Limiter } from "./limiter.ts";
import { type PlanResolver, type ResolvedPlan, resolvePlan } from "./plan-resolver.ts";
import { type UsageCursor, type UsageReport, usageReport } from "./usage-report.ts";

export type { TenantRecord };

export interface AdminServiceOptions {
  policy: CompiledPolicy;
  store: Store;
  limiter: Limiter;
  resolver: PlanResolver;
  clock: Clock;
  metrics: Metrics;
}

export interface IsolateStats {
  fleet: FleetCounts;
  decisions: number;
  storeErrors: number;
  planHits: number;
  planMisses: number;
  leaseGrants: number;
  books: number;
  maxBooks: number;
  bytes: number;
  entries: { plan: number; lease: number; denial: number; async: number };
  pendingDeltas: number;
  breaker: { state: "closed" | "open"; openedAtMs: number | null; failures: number };
}

export class AdminService {
  private readonly o: AdminServiceOptions;
  readonly storeKind: "upstash" | "memory";

  constructor(o: AdminServiceOptions) {
    this.o = o;
    this.storeKind = o.store.locality === "remote" ? "upstash" : "memory";
  }

  /** A store round trip of the admin API: counted once; a failure is logged and becomes store_unavailable, whose
   * text never quotes the store's error. */
  private async fromStore<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.o.metrics.inc("quotagate_store_calls_total", { op: "admin" });
    try {
      return await call();
    } catch (err) {
      this.o.metrics.inc("quotagate_store_errors_total", { op: "admin" });
      console.error(`quotagate: the store failed while ${what}`, err);
      throw new QuotaGateError("store_unavailable", `the quota store failed while ${what}; retry shortly`);
    }
  }

  /** This isolate's counters and cache, from its metrics and books. */
  isolate(): IsolateStats {
    const m = this.o.metrics;
    const entries = { plan: 0, lease: 0, denial: 0, async: 0 };
    const now = this.o.clock.now();
    for (const b of this.o.limiter.books.books()) {
      if (b.planAt(now)) entries.plan++;
      entries.lease += b.leases.size;
      entries.denial += b.denials.size;
      entries.async += b.counts.size;
    }
    const snap = this.o.limiter.snapshot();
    return {
      fleet: fleetCounts(m),
      decisions: m.total("quotagate_decisions_total"),
      storeErrors: m.total("quotagate_store_errors_total"),
      planHits: m.total("quotagate_cache_hits_total", { kind: "plan" }),
      planMisses: m.total("quotagate_cache_misses_total", { kind: "plan" }),
      leaseGrants: m.total("quotagate_lease_grants_total"),
      books: snap.cacheSize,
      maxBooks: snap.cacheMaxSize,
      bytes: snap.cacheBytes,
      entries,
      pendingDeltas: snap.pendingDeltas,
      breaker: {
        state: this.o.limiter.breaker.state,
        openedAtMs: this.o.limiter.breaker.openedAt,
        failures: this.o.limiter.breaker.failures,
      },
    };
  }

  /** Today's totals as every isolate flushed them. */
  async fleet(): Promise<{ date: string; counts: Record<string, number> }> {
    const now = this.o.clock.now();
    const counts = await this.fromStore("reading the fleet stats", () =>
      this.o.store.getStats(calendarPeriod("day", now).id),
    );
    return { date: utcDate(now), counts };
  }

  /** The day limit of a dimension as the policy defines it (the listing reads its storage). */
  private dayLimit(dimension: string): LimitSpec {
    const id = `${dimension}:day`;
    for (const tier of this.o.policy.tierNames) {
      const l = this.o.policy.plan("-", tier).limits.find((x) => x.id === id);
      if (l) return l;
    }
    return compileLimit({ dimension, window: "day", limit: 1 });
  }

  /** One page of one day's usage. A tenant's day limit is its cached plan's, else the default tier's. */
  async usage(q: {
    dimension: string;
    date?: string | undefined;
    pageSize: number;
    cursor: UsageCursor | null;
  }) {
    const date = q.date ?? (q.cursor ? dateOfDayId(q.cursor.p) : utcDate(this.o.clock.now()));
    const limit = this.dayLimit(q.dimension);
    const now = this.o.clock.now();
    const defaultCap = this.o.policy
      .plan("-", this.o.policy.policy.defaultTier)
      .limits.find((l) => l.id === limit.id)?.limit;
    return this.fromStore<UsageReport>("listing usage", () =>
      usageReport(this.o.store, {
        limit,
        date,
        pageSize: q.pageSize,
        cursor: q.cursor,
        dayLimitOf: (t) =>
          this.o.limiter.books
            .peek(t)
            ?.planAt(now)
            ?.limits.find((l) => l.id === limit.id)?.limit ?? defaultCap,
        heldOf: (t, periodId) => this.o.limiter.books.peek(t)?.held(limit.id, periodId) ?? 0,
      }),
    );
  }

  /** Caches a tier's plan for these tenants in this isolate. Returns the books held after. */
  warm(tenants: string[], tier: string): number {
    const now = this.o.clock.now();
    const books = this.o.limiter.books;
    for (const tenant of tenants) {
      const book = books.open(tenant, now);
      book.plan = {
        plan: this.o.policy.plan(tenant, tier),
        source: "admin",
        expiresAtMs: now + this.cacheTtlMs,
      };
      books.keep(book, now);
    }
    return books.size;
  }

  get cacheTtlMs(): number {
    return this.o.resolver.cacheTtlMs;
  }

  /** Returns every lease, sends every count, empties the isolate cache. Returns the books it held. */
  async clear(): Promise<number> {
    const held = this.o.limiter.books.size;
    await this.o.limiter.clear();
    return held;
  }

  /** Store reachability and the size of today's request usage (largest shard estimated). */
  async health(): Promise<{
    storeOk: boolean;
    tenants: number | null;
    bytes: number | null;
    shards: number;
  }> {
    const now = this.o.clock.now();
    const [ping, size] = await Promise.allSettled([
      this.fromStore("pinging", () => this.o.store.ping()),
      this.fromStore("sizing the usage hash", () =>
        this.o.store.usageSize(this.dayLimit("requests"), calendarPeriod("day", now).id),
      ),
    ]);
    const sized = size.status === "fulfilled" ? size.value : null;
    return {
      storeOk: ping.status === "fulfilled",
      tenants: sized?.tenants ?? null,
      bytes: sized?.bytes ?? null,
      shards: USAGE_SHARDS,
    };
  }

  /** Sets a tenant's tier and overrides; answers with the record and the plan it now resolves to. This isolate
   * applies it at once, the others when their cached plan expires. */
  async updateTenant(
    tenant: string,
    tier: string,
    overrides: TenantOverrides | undefined,
  ): Promise<{ record: TenantRecord; resolved: ResolvedPlan }> {
    const record = await this.fromStore("writing the tenant", () =>
      this.o.store.putTenant(tenant, { tier, ...(overrides ? { overrides } : {}) }, this.o.clock.now()),
    );
    this.o.limiter.books.peek(tenant)?.forgetPlan();
    return { record, resolved: resolvePlan(this.o.policy, { tenant }, record) };
  }

  /** A tenant's record, the plan it resolves to, and live usage. */
  async viewTenant(tenant: string): Promise<{
    record: TenantRecord | null;
    resolved: ResolvedPlan;
    states: LimitState[];
    cached: boolean;
  }> {
    const loaded = await this.fromStore("reading the tenant", () => this.o.resolver.load({ tenant }));
    const states = await this.o.limiter.status(loaded.plan);
    const cached = this.o.limiter.books.peek(tenant)?.planAt(this.o.clock.now()) !== undefined;
    return { record: loaded.record, resolved: loaded, states, cached };
  }

  /** Zeroes the tenant's usage in the current periods of its limits and of every tier's (a credential may name
   * another tier than its record resolves to). */
  async resetTenant(tenant: string): Promise<{ plan: Plan; limits: LimitSpec[] }> {
    const { plan } = await this.fromStore("reading the tenant", () => this.o.resolver.load({ tenant }));
    const limits = new Map<string, LimitSpec>();
    for (const l of [
      ...plan.limits,
      ...this.o.policy.tierNames.flatMap((t) => this.o.policy.plan(tenant, t).limits),
    ])
      if (!limits.has(l.id)) limits.set(l.id, l);
    // Dropped before and after: a lease granted while the reset is under way was zeroed with the rest.
    const discard = () => this.o.limiter.books.peek(tenant)?.discardCurrent(this.o.clock.now());
    discard();
    await this.fromStore("resetting usage", () =>
      this.o.store.reset(tenant, [...limits.values()], this.o.clock.now()),
    );
    discard();
    return { plan, limits: [...limits.values()] };
  }
}
