// Figures of GET /admin/quota/stats (isolate and fleet) and the verdicts of GET /admin/quota/health, with seed 000's
// thresholds: cache hit rate good above 80 %, poor below 60 %; a usage hash over 100 MB is a warning (Upstash caps one
// record at 100 MB, so the test applies per shard key).

import type { z } from "zod";
import type { Limiter } from "../../limiter/limiter.ts";
import type { StatsDelta } from "../../store/store.ts";
import type { fleetStatsSchema, isolateStatsSchema } from "./schemas.ts";

export const HIT_RATE_GOOD_PERCENT = 80;
export const HIT_RATE_POOR_PERCENT = 60;
export const HASH_WARN_MB = 100;

export type CacheStatus = "good" | "acceptable" | "poor";
export type HealthStatus = "healthy" | "degraded" | "unhealthy";

/** An isolate that has decided nothing yet has nothing to judge: "good". */
export function cacheStatus(hitRatePercent: number, requests: number): CacheStatus {
  if (requests === 0 || hitRatePercent > HIT_RATE_GOOD_PERCENT) return "good";
  return hitRatePercent < HIT_RATE_POOR_PERCENT ? "poor" : "acceptable";
}

export function hashStatus(largestShardMb: number | null): "ok" | "warn" | "unknown" {
  if (largestShardMb === null) return "unknown";
  return largestShardMb > HASH_WARN_MB ? "warn" : "ok";
}

/** Store unreachable: unhealthy. Poor cache hit rate or an oversized hash: degraded. */
export function overallHealth(
  storeOk: boolean,
  cache: CacheStatus,
  hash: "ok" | "warn" | "unknown",
): HealthStatus {
  if (!storeOk) return "unhealthy";
  return cache === "poor" || hash === "warn" ? "degraded" : "healthy";
}

export const percent = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;

/** The serving isolate's counters (its Metrics and cache). A decision is a cache hit when it was taken from leased
 * allowance, a cached denial or local async counts; fail-open/closed decisions tried the store and are misses. */
export function isolateStats(limiter: Limiter): z.output<typeof isolateStatsSchema> {
  const m = limiter.metrics;
  const total = m.total("quotagate_decisions_total");
  const failed =
    m.total("quotagate_decisions_total", { reason: "fail_open" }) +
    m.total("quotagate_decisions_total", { reason: "store_unavailable" });
  const hits = Math.max(0, m.total("quotagate_local_decisions_total") - failed);
  const kinds = { plan: 0, lease: 0, denial: 0, async: 0 };
  for (const [, e] of limiter.cache.entries()) kinds[e.kind]++;
  const snap = limiter.snapshot();
  return {
    cache_hits: hits,
    cache_misses: total - hits,
    total_requests: total,
    hit_rate_percent: percent(hits, total),
    cache_size: snap.cacheSize,
    cache_max_size: snap.cacheMaxSize,
    cache_bytes: snap.cacheBytes,
    cache_entries: kinds,
    redis_calls: m.total("quotagate_store_calls_total"),
    store_errors: m.total("quotagate_store_errors_total"),
    plan_cache_hits: m.total("quotagate_cache_hits_total", { kind: "plan" }),
    plan_cache_misses: m.total("quotagate_cache_misses_total", { kind: "plan" }),
    allowed: m.total("quotagate_decisions_total", { outcome: "allowed" }),
    denied: m.total("quotagate_decisions_total", { outcome: "denied" }),
    lease_grants: m.total("quotagate_lease_grants_total"),
    pending_deltas: snap.pendingDeltas,
  };
}

/** Today's fleet counters as every isolate flushed them (the limiter's FLEET_COUNTERS). */
export function fleetStats(date: string, raw: StatsDelta): z.output<typeof fleetStatsSchema> {
  const n = (k: string) => raw[k] ?? 0;
  const hits = n("cache_hits");
  const lookups = hits + n("cache_misses");
  return {
    date,
    allowed: n("allowed"),
    denied: n("denied"),
    total_requests: n("allowed") + n("denied"),
    cache_hits: hits,
    cache_misses: n("cache_misses"),
    hit_rate_percent: percent(hits, lookups),
    redis_calls: n("store_calls"),
  };
}
