// End to end in workerd, admin monitoring: GET /admin/quota/stats (isolate counters, fleet totals once flushed,
// cached denials) and GET /admin/quota/health (healthy, degraded by a poor hit rate, unhealthy with 503 when the store
// is unreachable), each answer checked against the schema /admin/openapi.json is built from.
import { describe, expect, inject, it } from "vitest";
import { adminHealthResponseSchema, statsResponseSchema } from "../src/http/admin/schemas.ts";
import { cacheStatus, hashStatus, overallHealth } from "../src/http/admin/stats.ts";
import { adminInit, adminJson, settle } from "./support/admin.ts";
import {
  expectProblem,
  gateway,
  policyJson,
  traffic,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

describe("GET /admin/quota/stats", () => {
  it("reports the serving isolate's hits, misses and store calls, and the fleet totals once flushed", async () => {
    const fresh = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(fresh.store).toBe("memory");
    expect(fresh.stats).toMatchObject({
      cache_hits: 0,
      cache_misses: 0,
      total_requests: 0,
      hit_rate_percent: 0,
    });
    expect(fresh.stats.cache_max_size).toBe(10_000);
    expect(fresh.fleet).toMatchObject({ date: "2026-11-23", total_requests: 0 });

    expect(await traffic("t-stats", 20)).toEqual(Array(20).fill(200));
    const { stats } = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(stats.total_requests).toBe(20);
    expect(stats.allowed).toBe(20);
    expect(stats.cache_hits + stats.cache_misses).toBe(20);
    // The first request leases allowance from the store; most of the rest are decided from it.
    expect(stats.cache_misses).toBeGreaterThanOrEqual(1);
    expect(stats.cache_hits).toBeGreaterThanOrEqual(10);
    expect(stats.hit_rate_percent).toBe(Math.round((stats.cache_hits / 20) * 1000) / 10);
    expect(stats.redis_calls).toBeGreaterThanOrEqual(stats.cache_misses);
    expect(stats.plan_cache_misses).toBe(1);
    expect(stats.plan_cache_hits).toBe(19);
    expect(stats.cache_entries.plan).toBe(1);
    expect(stats.cache_entries.lease).toBeGreaterThanOrEqual(1);
    // One tenant: one book, holding its plan and its leases.
    expect(stats.cache_size).toBe(1);

    await settle(); // a cache clear sends the isolate's counters to the fleet stats
    const after = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(after.fleet).toMatchObject({ allowed: 20, denied: 0, total_requests: 20 });
    expect(after.fleet!.cache_hits + after.fleet!.cache_misses).toBe(20);
    expect(after.stats.cache_size).toBe(0);
  });

  it("counts cached denials as hits", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({ tiers: { free: { limits: [{ window: "day", limit: 3 }] } } }),
    });
    const statuses = await traffic("t-deny", 10, w.fetch);
    expect(statuses).toEqual([200, 200, 200, ...Array(7).fill(429)]);
    const { stats } = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats).toMatchObject({ total_requests: 10, allowed: 3, denied: 7 });
    expect(stats.cache_entries.denial).toBe(1);
    expect(stats.cache_hits).toBeGreaterThanOrEqual(6); // every denial after the first comes from the cache
  });
});

describe("cost estimates", () => {
  it("reports Redis commands per request and Upstash dollars, isolate and fleet, at the configured price", async () => {
    const w = workerWith({ UPSTASH_PRICE_PER_100K: "0.5" });
    expect(await traffic("t-cost", 40, w.fetch)).toEqual(Array(40).fill(200));
    const { cost } = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(cost.price_per_100k_commands_usd).toBe(0.5);
    const iso = cost.isolate;
    expect(iso.requests).toBe(40);
    // Leases: a few acquire exchanges (and one tenant read) for 40 requests, each a handful of commands.
    expect(iso.store_commands).toBeGreaterThan(0);
    expect(iso.store_commands).toBeLessThan(40);
    expect(iso.commands_per_request).toBe(Math.round((iso.store_commands / 40) * 10_000) / 10_000);
    expect(iso.usd_per_million_requests).toBeCloseTo((iso.store_commands / 40) * 1e6 * (0.5 / 1e5), 3);

    await settle(w.fetch); // sends the isolate's counters to today's fleet stats
    const after = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    const fleet = after.cost.fleet!;
    expect(fleet.requests).toBe(40);
    expect(fleet.store_commands).toBeGreaterThanOrEqual(iso.store_commands);
    // 12:00:30 UTC: today's dollars so far, carried over 24 hours (twice as much by midnight).
    expect(fleet.usd_today).toBeCloseTo((fleet.store_commands / 1e5) * 0.5, 6);
    expect(fleet.usd_per_day).toBeCloseTo(fleet.usd_today * (86_400 / (12 * 3_600 + 30)), 6);

    const text = await (await w.fetch("/admin/metrics", adminInit())).text();
    expect(text).toContain(`quotagate_upstash_command_price_usd ${0.5 / 100_000}`);
    expect(text).toMatch(/quotagate_store_commands_total\{op="acquire"\} \d+/);
    expect(text).toMatch(/quotagate_store_commands_per_request \d/);
    expect(text).toMatch(/quotagate_upstash_usd_per_million_requests \d/);
  });
});

describe("GET /admin/quota/health", () => {
  it("is healthy on a working store, with its redis, cache and hash checks", async () => {
    await traffic("h-1", 50); // a few store round trips while leases grow, then decisions from the leases
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.status).toBe("healthy");
    expect(body.checks.redis_connection).toBe("ok");
    expect(body.checks.cache_performance).toMatchObject({ status: "good", requests: 50 });
    expect(body.checks.cache_performance.hit_rate_percent).toBeGreaterThan(80);
    expect(body.checks.hash_storage).toMatchObject({ tenant_count: 1, shards: 16, status: "ok" });
    expect(body.checks.hash_storage.estimated_size_mb).toBeLessThan(0.01);
  });

  it("is degraded when the cache hit rate is poor", async () => {
    // Every request of a new tenant needs the store: hit rate 0 %.
    for (let i = 0; i < 5; i++) await traffic(`h-cold-${i}`, 1);
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.checks.cache_performance.status).toBe("poor");
    expect(body.status).toBe("degraded");
  });

  it("is healthy on an idle isolate (nothing to judge yet)", async () => {
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.status).toBe("healthy");
    expect(body.checks.cache_performance).toEqual({ hit_rate_percent: 0, status: "good", requests: 0 });
  });

  it("applies the health thresholds: hit rate good > 80 %, poor < 60 %; hash warning > 100 MB per key", () => {
    expect(cacheStatus(80.1, 10)).toBe("good");
    expect(cacheStatus(80, 10)).toBe("acceptable");
    expect(cacheStatus(60, 10)).toBe("acceptable");
    expect(cacheStatus(59.9, 10)).toBe("poor");
    expect(cacheStatus(0, 0)).toBe("good");
    expect(hashStatus(100)).toBe("ok");
    expect(hashStatus(100.01)).toBe("warn");
    expect(hashStatus(null)).toBe("unknown");
    expect(overallHealth(true, "good", "ok")).toBe("healthy");
    expect(overallHealth(true, "acceptable", "ok")).toBe("healthy");
    expect(overallHealth(true, "poor", "ok")).toBe("degraded");
    expect(overallHealth(true, "good", "warn")).toBe("degraded");
    expect(overallHealth(false, "good", "ok")).toBe("unhealthy");
  });

  it("is unhealthy (503, same body) when the store is unreachable; stats still answer, store routes 503", async () => {
    const w = workerWith({
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${inject("closedPort")}`,
      UPSTASH_REDIS_REST_TOKEN: "unreachable",
      STORE_TIMEOUT_MS: "500",
    });
    const body = await adminJson(w.fetch, "/admin/quota/health", adminHealthResponseSchema, adminInit(), 503);
    expect(body.status).toBe("unhealthy");
    expect(body.store).toBe("upstash");
    expect(body.checks.redis_connection).toMatch(/^error: /);
    expect(body.checks.hash_storage).toMatchObject({
      tenant_count: null,
      estimated_size_mb: null,
      status: "unknown",
    });

    const stats = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats.fleet).toBeNull();
    expect(stats.fleet_error).toContain("store failed while reading the fleet stats");
    expect(stats.stats.store_errors).toBeGreaterThanOrEqual(1);

    for (const [method, path, b] of [
      ["GET", "/admin/quota/usage"],
      ["POST", "/admin/quota/update", { tenant_id: "x", tier: "pro" }],
      ["GET", "/admin/tenants/x"],
      ["POST", "/admin/tenants/x/reset"],
    ] as Array<[string, string, unknown?]>) {
      const p = await expectProblem(await w.fetch(path, adminInit(method, b)), 503);
      expect(p.detail).toContain("store failed while");
    }
  });
});
