// Compiles the validated policy into what the hot path needs: limit specs per tier, a plan resolver, the path
// normaliser, route pricing and the exempt-route matcher. Built once per isolate.
import type { Cost, FailurePolicy, LimitSpec, Plan, WaitRules } from "../core/quota.ts";
import { normalisePath, type RequestPath } from "./path.ts";
import { compilePathPattern } from "./path-pattern.ts";
import type { LimitConfig, Policy, TenantOverrides } from "./policy-schema.ts";
import { type CompiledTokenRules, compileTokenRules } from "./token-rules.ts";
import { parseWindow, policyName } from "./window-spec.ts";

export { compilePathPattern };

/** How a route prices a request: its fixed cost per dimension, and its token rules when its cost is settled from
 * the response. */
export interface RoutePricing {
  cost: Cost;
  tokens?: CompiledTokenRules;
}

export interface CompiledPolicy {
  readonly policy: Policy;
  readonly tierNames: readonly string[];
  /** Limits of a tenant in a tier, with per-tenant overrides applied. Throws on an unknown tier. */
  plan(tenant: string, tier: string, overrides?: TenantOverrides): Plan;
  /** The policy's static entry for a tenant (own entries only: a tenant id never reaches the object prototype). */
  staticTenant(tenant: string): Policy["tenants"][string] | undefined;
  /** A request's path as the policy matches it and the proxy forwards it; throws a 400 for a refused path. */
  normalisePath(pathname: string): RequestPath;
  /** Units a request costs per dimension (first matching route rule; else 1 request). */
  price(method: string, path: RequestPath): Cost;
  /** The first matching route rule's pricing (else 1 request), with its token rules. */
  route(method: string, path: RequestPath): RoutePricing;
  isExempt(path: RequestPath): boolean;
  hasTier(tier: string): boolean;
}

export function compileLimit(l: Partial<LimitConfig> & { window: string }): LimitSpec {
  const parsed = parseWindow(l.window);
  if (!parsed.ok) throw new Error(parsed.message);
  const dimension = l.dimension ?? "requests";
  const limit = parsed.window.kind === "bucket" ? parsed.window.burst : (l.limit ?? 0);
  return {
    id: `${dimension}:${l.window}`,
    name: l.name ?? policyName(dimension, l.window),
    dimension,
    window: parsed.window,
    limit,
    mode: l.mode ?? "enforce",
    sync: l.sync ?? "strict",
  };
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  const tiers = new Map<
    string,
    {
      limits: LimitSpec[];
      failure: FailurePolicy;
      degradedShare: number;
      concurrency?: number | undefined;
      wait?: WaitRules;
    }
  >();
  for (const [name, t] of Object.entries(policy.tiers)) {
    const q = t.queue;
    tiers.set(name, {
      limits: t.limits.map(compileLimit),
      failure: t.failure ?? policy.failure,
      degradedShare: t.degradedShare ?? policy.degradedShare,
      concurrency: t.concurrency,
      ...(q && q.maxWaitSeconds > 0
        ? {
            wait: {
              maxMs: q.maxWaitSeconds * 1000,
              defaultMs: q.defaultWaitSeconds * 1000,
              maxDepth: q.maxDepth,
              weight: q.weight,
            },
          }
        : {}),
    });
  }
  // A rule's costs add to the default of one request unless it sets `requests` itself (0 makes the route free of
  // request limits): pricing tokens must not silently exempt a route from the request quotas.
  const { caseSensitive } = policy.paths;
  const routes = policy.routes.map((r) => ({
    method: r.method,
    re: compilePathPattern(r.path, caseSensitive),
    pricing: {
      cost: { requests: 1, ...r.cost },
      ...(r.tokens ? { tokens: compileTokenRules(r.tokens) } : {}),
    } satisfies RoutePricing,
  }));
  const exempt = policy.exempt.map((p) => compilePathPattern(p, caseSensitive));
  const defaultPricing: RoutePricing = { cost: { requests: 1 } };
  const route = (method: string, path: RequestPath): RoutePricing => {
    // Methods are case-sensitive in HTTP, but an origin may well serve `post` as POST: price it as POST.
    const m = method.toUpperCase();
    for (const r of routes)
      if ((r.method === "*" || r.method === m) && r.re.test(path.match)) return r.pricing;
    return defaultPricing;
  };

  const statics = new Map(Object.entries(policy.tenants));

  return {
    policy,
    tierNames: [...tiers.keys()],
    staticTenant: (tenant) => statics.get(tenant),
    hasTier: (tier) => tiers.has(tier),
    plan(tenant, tierName, overrides) {
      const tier = tiers.get(tierName);
      if (!tier) throw new Error(`unknown tier "${tierName}"`);
      let limits = tier.limits;
      if (overrides?.limits?.length) {
        const byId = new Map(limits.map((l) => [l.id, l]));
        for (const o of overrides.limits) {
          const base = byId.get(`${o.dimension ?? "requests"}:${o.window}`);
          const merged = compileLimit({
            ...(base ? { limit: base.limit, mode: base.mode, sync: base.sync, name: base.name } : {}),
            ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
            window: o.window,
          });
          byId.set(merged.id, merged);
        }
        limits = [...byId.values()];
      }
      const concurrency = overrides?.concurrency ?? tier.concurrency;
      return {
        tenant,
        tier: tierName,
        limits,
        failure: overrides?.failure ?? tier.failure,
        degradedShare: tier.degradedShare,
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(tier.wait ? { wait: tier.wait } : {}),
      };
    },
    normalisePath: (pathname) => normalisePath(pathname, policy.paths),
    price: (method, path) => route(method, path).cost,
    route,
    isExempt: (path) => exempt.some((re) => re.test(path.match)),
  };
}
