// The figures of GET /admin/dashboard/data, gathered from the admin service, the isolate's activity and metrics,
// the cost estimates and the isolate's copy of the deny list (no store read beyond the fleet totals).
import { costStats, isolateStats, percent } from "../admin/stats.ts";
import type { AppDeps } from "../app.ts";
import type { DashboardData } from "./data-schema.ts";

/** Minutes the decisions chart covers. */
export const DASHBOARD_MINUTES = 30;
/** Tenants per ranking. */
export const DASHBOARD_TOP = 10;
/** How often the page asks again. */
export const DASHBOARD_REFRESH_SECONDS = 10;

const iso = (ms: number) => new Date(ms).toISOString();

export async function dashboardData(deps: AppDeps): Promise<DashboardData> {
  const { admin, activity, metrics, clock, deny, config } = deps;
  const now = clock.now();
  const isolate = admin.isolate();
  const stats = isolateStats(isolate);
  let counts: Record<string, number> | null = null;
  try {
    counts = (await admin.fleet()).counts;
  } catch {
    counts = null; // the store is away: the cost of the fleet is left out, the rest is the isolate's own
  }
  const latency = metrics.histogramTotals("quotagate_store_latency_seconds");
  let below = 0;
  const buckets = latency.buckets.map(([le, cumulative]) => {
    const count = cumulative - below;
    below = cumulative;
    return { le_ms: le * 1000, count };
  });
  const top = activity.top(DASHBOARD_TOP);
  const rules = await deny.rules();
  return {
    success: true,
    generated_at: iso(now),
    store: admin.storeKind,
    refresh_seconds: DASHBOARD_REFRESH_SECONDS,
    minutes: activity.minutes(DASHBOARD_MINUTES).map((m) => ({
      minute: iso(m.minute),
      allowed: m.allowed,
      denied: m.denied,
      shadow_denied: m.shadowDenied,
      deny_blocks: m.denyBlocks,
      store_calls_per_request: m.storeCallsPerRequest,
      store_commands_per_request: m.storeCommandsPerRequest,
      store_latency_ms: m.storeLatencyMs,
    })),
    top_usage: top.usage.map((h) => ({ tenant: h.key, requests: h.count, error: h.error })),
    top_denials: top.denials.map((h) => ({ tenant: h.key, denials: h.count, error: h.error })),
    cache: {
      hit_rate_percent: stats.hit_rate_percent,
      hits: stats.cache_hits,
      misses: stats.cache_misses,
      plan_hit_rate_percent: percent(stats.plan_cache_hits, stats.plan_cache_hits + stats.plan_cache_misses),
      size: stats.cache_size,
      max_size: stats.cache_max_size,
    },
    store_latency: {
      calls: latency.count,
      mean_ms: latency.count ? Math.round((latency.sum / latency.count) * 1e6) / 1e3 : 0,
      buckets,
    },
    cost: costStats(config.pricePer100kCommands, metrics, counts, now),
    leases: {
      held: isolate.entries.lease,
      grants: isolate.leaseGrants,
      units_granted: metrics.total("quotagate_lease_units_granted_total"),
      units_returned: metrics.total("quotagate_lease_units_returned_total"),
    },
    deny: {
      total: rules.size,
      entries: [...rules.entries]
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value))
        .map((e) => ({
          kind: e.kind,
          value: e.value,
          reason: e.reason ?? null,
          created_at: iso(e.createdAtMs),
        })),
    },
  };
}
