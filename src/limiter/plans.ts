// Resolves a tenant's plan: runtime record from the store (admin API) > the policy's static tenants > the tier the
// credential names > the default tier. Cached per isolate by the limiter for QUOTA_CACHE_TTL.
import type { Plan } from "../core/quota.ts";
import type { CompiledPolicy } from "../policy/compiled-policy.ts";
import type { Store } from "../store/store.ts";

export async function loadPlan(
  policy: CompiledPolicy,
  store: Store,
  tenant: string,
  tierHint?: string,
): Promise<Plan> {
  const record = await store.getTenant(tenant);
  const fixed = policy.policy.tenants[tenant];
  const candidates = [record?.tier, fixed?.tier, tierHint, policy.policy.defaultTier];
  // A tier removed from the policy falls back to the default rather than failing the tenant's requests.
  const tier = candidates.find((t): t is string => t !== undefined && policy.hasTier(t))!;
  return policy.plan(tenant, tier, record?.overrides ?? fixed?.overrides);
}
