// The one place a tenant's plan is resolved: the admin record, else the policy's static tenants, else the tier the
// credential names, else the default tier; the policy alone when the store fails; cached in the tenant's book.
import type { PlanSource, TenantBook } from "../cache/tenant-book.ts";
import type { Plan } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CompiledPolicy } from "../policy/compiled-policy.ts";
import type { Store, TenantRecord } from "../store/store.ts";
import type { Breaker } from "./breaker.ts";
import { withTimeout } from "./timeout.ts";

export interface PlanRequest {
  tenant: string;
  /** Tier named by the credential (API key entry or JWT tier claim). */
  tierHint?: string | undefined;
}

export interface ResolvedPlan {
  plan: Plan;
  source: PlanSource;
}

/** How long the policy alone serves a tenant after the store failed to answer for its record. */
const FALLBACK_MS = 5_000;

/**
 * Resolves from what is known. A record set through the admin API replaces the policy's static entry whole, tier
 * and overrides: "no overrides" in a record means none, not the policy's. A record naming a tier the policy no
 * longer has is ignored until it is updated.
 */
export function resolvePlan(
  policy: CompiledPolicy,
  req: PlanRequest,
  record: TenantRecord | null,
  source: "store" | "fallback" = "store",
): ResolvedPlan {
  const { tenant, tierHint } = req;
  if (record && policy.hasTier(record.tier))
    return { plan: policy.plan(tenant, record.tier, record.overrides), source: "admin" };
  const fixed = policy.staticTenant(tenant);
  const fallback = source === "fallback";
  if (fixed)
    return {
      plan: policy.plan(tenant, fixed.tier, fixed.overrides),
      source: fallback ? "fallback" : "policy",
    };
  if (tierHint !== undefined && policy.hasTier(tierHint))
    return { plan: policy.plan(tenant, tierHint), source: fallback ? "fallback" : "credential" };
  return { plan: policy.plan(tenant, policy.policy.defaultTier), source: fallback ? "fallback" : "default" };
}

export interface PlanResolverOptions {
  policy: CompiledPolicy;
  store: Store;
  metrics: Metrics;
  cacheTtlMs: number;
  storeTimeoutMs: number;
  /** While open, the policy alone resolves plans without waiting for the store. */
  breaker?: Breaker;
}

export class PlanResolver {
  private readonly o: PlanResolverOptions;

  constructor(o: PlanResolverOptions) {
    this.o = o;
  }

  /** How long a resolved plan is trusted in an isolate (other isolates see an admin change after at most this). */
  get cacheTtlMs(): number {
    return this.o.cacheTtlMs;
  }

  /** The record and the plan it resolves to, read from the store now (admin views; throws when the store fails). */
  async load(req: PlanRequest): Promise<ResolvedPlan & { record: TenantRecord | null }> {
    const record = await this.o.store.getTenant(req.tenant);
    return { ...resolvePlan(this.o.policy, req, record), record };
  }

  /** The plan a request is decided under: cached in the book for the cache TTL; the policy alone for a few seconds
   * when the store does not answer. A cached plan is returned as it is, not as a promise: in Workers every await
   * costs a turn of the request's promise machinery, and almost every request finds its plan cached. */
  planFor(book: TenantBook, req: PlanRequest, now: number): Plan | Promise<Plan> {
    const hit = book.planAt(now);
    if (hit) {
      this.o.metrics.inc("quotagate_cache_hits_total", { kind: "plan" });
      return hit;
    }
    return this.fetchPlan(book, req, now);
  }

  private async fetchPlan(book: TenantBook, req: PlanRequest, now: number): Promise<Plan> {
    this.o.metrics.inc("quotagate_cache_misses_total", { kind: "plan" });
    try {
      if (this.o.breaker && !this.o.breaker.allows()) throw new Error("the store's circuit breaker is open");
      this.o.metrics.inc("quotagate_store_calls_total", { op: "tenant" });
      const record = await withTimeout(this.o.store.getTenant(req.tenant), this.o.storeTimeoutMs);
      this.o.breaker?.success();
      const r = resolvePlan(this.o.policy, req, record);
      book.plan = { ...r, expiresAtMs: now + this.o.cacheTtlMs };
      return r.plan;
    } catch (err) {
      this.o.metrics.inc("quotagate_store_errors_total", { op: "tenant" });
      if (this.o.breaker?.allows()) console.error("quotagate: tenant record read failed", err);
      this.o.breaker?.failure();
      const r = resolvePlan(this.o.policy, req, null, "fallback");
      book.plan = { ...r, expiresAtMs: now + Math.min(FALLBACK_MS, this.o.cacheTtlMs) };
      return r.plan;
    }
  }
}
