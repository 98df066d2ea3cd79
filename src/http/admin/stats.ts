// Figures of GET /admin/quota/stats (isolate and fleet) and the verdicts of GET /admin/quota/health: a cache hit rate
// is good above 80 % and poor below 60 %; a usage hash over 100 MB is a warning (Upstash caps one record at 100 MB, so
// the test applies per shard key).

import type { z } from "zod";
import { calendarPeriod } from "../../algorithms/calendar-window.ts";
import type { IsolateStats } from "../../limiter/admin-service.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import { dailyCost, requestCost } from "../../metrics/upstash-cost.ts";
import type { costSchema } from "./cost-schema.ts";
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

/** Store unreachable: unhealthy. Poor cache hit rate, an oversized hash or a backed-up waiting queue: degraded. */
export function overallHealth(
  storeOk: boolean,
  cache: CacheStatus,
  hash: "ok" | "warn" | "unknown",
  queue: "ok" | "warn" = "ok",
): HealthStatus {
  if (!storeOk) return "unhealthy";
  return cache === "poor" || hash === "warn" || queue === "warn" ? "degraded" : "healthy";
}

export const percent = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;

/** The serving isolate's counters. A decision is a cache hit when it was taken from leased allowance, a cached
 * denial or local async counts; fail-open/closed decisions tried the store and are misses. */
export function isolateStats(s: IsolateStats): z.output<typeof isolateStatsSchema> {
  const total = s.decisions;
  const hits = s.fleet.cache_hits;
  return {
    cache_hits: hits,
    cache_misses: total - hits,
    total_requests: total,
    hit_rate_percent: percent(hits, total),
    cache_size: s.books,
    cache_max_size: s.maxBooks,
    cache_bytes: s.bytes,
    cache_entries: s.entries,
    redis_calls: s.fleet.store_calls,
    store_errors: s.storeErrors,
    plan_cache_hits: s.planHits,
    plan_cache_misses: s.planMisses,
    allowed: s.fleet.allowed,
    denied: s.fleet.denied,
    lease_grants: s.leaseGrants,
    pending_deltas: s.pendingDeltas,
    store_breaker: breakerView(s.breaker),
  };
}

export function breakerView(b: IsolateStats["breaker"]) {
  return {
    state: b.state,
    opened_at: b.openedAtMs === null ? null : new Date(b.openedAtMs).toISOString(),
    failures: b.failures,
  };
}

/** Today's fleet counters as every isolate flushed them. */
export function fleetStats(date: string, raw: Record<string, number>): z.output<typeof fleetStatsSchema> {
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

/** Estimated Upstash cost of this isolate's commands (from its metrics) and of today's fleet totals (`null`: they
 * could not be read), at `nowMs`. */
export function costStats(
  pricePer100k: number,
  metrics: Metrics,
  fleetCounts: Record<string, number> | null,
  nowMs: number,
): z.output<typeof costSchema> {
  const n = (k: string) => fleetCounts?.[k] ?? 0;
  const msIntoDay = nowMs - calendarPeriod("day", nowMs).startMs;
  return {
    price_per_100k_commands_usd: pricePer100k,
    isolate: requestCost(
      metrics.total("quotagate_store_commands_total"),
      metrics.total("quotagate_decisions_total"),
      pricePer100k,
    ),
    fleet: fleetCounts
      ? dailyCost(n("store_commands"), n("allowed") + n("denied"), msIntoDay, pricePer100k)
      : null,
  };
}
