// The quota routes of the admin API: GET /admin/quota/stats, GET /admin/quota/usage, POST /admin/quota/cache/warm
// and /clear, GET /admin/quota/health. The figures come from the admin service; the verdicts from stats.ts.
import type { Hono } from "hono";
import type { z } from "zod";
import { dateOfDayId, utcDate } from "../../algorithms/calendar-window.ts";
import { decodeUsageCursor } from "../../limiter/usage-report.ts";
import type { AppDeps } from "../app.ts";
import { queueStats } from "../queue-stats.ts";
import {
  type AdminSchemas,
  type adminHealthResponseSchema,
  type clearResponseSchema,
  type statsResponseSchema,
  usageQuerySchema,
  type usageResponseSchema,
  type warmResponseSchema,
} from "./schemas.ts";
import { cacheStatus, costStats, fleetStats, hashStatus, isolateStats, overallHealth } from "./stats.ts";
import { invalid, parseWith, queryOf, readJson } from "./validate.ts";

type Out<S extends z.ZodType> = z.output<S>;

export function registerQuotaRoutes(admin: Hono, deps: AppDeps, schemas: AdminSchemas): void {
  const { config, admin: service, clock } = deps;
  const storeKind = service.storeKind;
  const ttlSeconds = Math.round(config.cacheTtlMs / 1000);

  admin.get("/quota/stats", async (c) => {
    let fleet: Out<typeof statsResponseSchema>["fleet"] = null;
    let fleetError: string | undefined;
    let counts: Record<string, number> | null = null;
    try {
      const f = await service.fleet();
      fleet = fleetStats(f.date, f.counts);
      counts = f.counts;
    } catch (err) {
      fleetError = (err as Error).message;
    }
    const body: Out<typeof statsResponseSchema> = {
      success: true,
      store: storeKind,
      stats: isolateStats(service.isolate()),
      fleet,
      ...(fleetError === undefined ? {} : { fleet_error: fleetError }),
      cost: costStats(config.pricePer100kCommands, deps.metrics, counts, clock.now()),
      queue: queueStats(deps.gate.snapshot(), true),
    };
    return c.json(body);
  });

  admin.get("/quota/usage", async (c) => {
    const q = parseWith(usageQuerySchema, queryOf(c.req.url), "query");
    const cursor = q.cursor === undefined ? null : decodeUsageCursor(q.cursor);
    const dimension = q.dimension ?? (cursor ? cursor.l.slice(0, -":day".length) : "requests");
    const date = q.date_str ?? (cursor ? dateOfDayId(cursor.p) : utcDate(clock.now()));
    const limitId = `${dimension}:day`;
    if (cursor && (cursor.l !== limitId || dateOfDayId(cursor.p) !== date)) {
      throw invalid("query", [
        {
          path: "cursor",
          message: `belongs to the listing of ${cursor.l} on ${dateOfDayId(cursor.p)}, not ${limitId} on ${date}; drop date_str and dimension or the cursor`,
        },
      ]);
    }
    const report = await service.usage({ dimension, date, pageSize: q.limit, cursor });
    const body: Out<typeof usageResponseSchema> = { success: true, ...report };
    return c.json(body);
  });

  admin.post("/quota/cache/warm", async (c) => {
    const body = parseWith(schemas.warmBody, await readJson(c.req.raw), "body");
    const ids = [...new Set(body.tenant_ids)];
    const size = service.warm(ids, body.plan_type);
    const out: Out<typeof warmResponseSchema> = {
      success: true,
      warmed: ids.length,
      plan_type: body.plan_type,
      ttl_seconds: ttlSeconds,
      cache_size: size,
    };
    return c.json(out);
  });

  admin.post("/quota/cache/clear", async (c) => {
    const out: Out<typeof clearResponseSchema> = {
      success: true,
      cleared_entries: await service.clear(),
      message: "leases returned, counters flushed, isolate cache emptied",
    };
    return c.json(out);
  });

  registerHealthRoute(admin, deps);
}

/** GET /admin/quota/health: the store, the cache hit rate, the usage hash size and the waiting queue, each with its
 * verdict. */
function registerHealthRoute(admin: Hono, deps: AppDeps): void {
  const { admin: service } = deps;
  const storeKind = service.storeKind;

  admin.get("/quota/health", async (c) => {
    const stats = isolateStats(service.isolate());
    const h = await service.health();
    const mb = h.bytes === null ? null : Math.round((h.bytes / 1_048_576) * 100) / 100;
    const shardMb = mb === null ? null : Math.round((mb / h.shards) * 100) / 100;
    const cache = cacheStatus(stats.hit_rate_percent, stats.total_requests);
    const hash = hashStatus(shardMb);
    const queue = deps.gate.snapshot();
    const queueVerdict = deps.gate.health();
    const status = overallHealth(h.storeOk, cache, hash, queueVerdict.status);
    const body: Out<typeof adminHealthResponseSchema> = {
      status,
      store: storeKind,
      checks: {
        redis_connection: h.storeOk ? "ok" : "error: the quota store did not answer",
        store_breaker: stats.store_breaker,
        cache_performance: {
          hit_rate_percent: stats.hit_rate_percent,
          status: cache,
          requests: stats.total_requests,
        },
        hash_storage: {
          tenant_count: h.tenants,
          estimated_size_mb: mb,
          shards: h.shards,
          largest_shard_estimate_mb: shardMb,
          status: hash,
        },
        queue: {
          depth: queue.depth,
          max_tenant_depth: Math.max(0, ...queue.tenants.map(([, n]) => n)),
          avg_wait_ms: queue.avgWaitMs,
          status: queueVerdict.status,
          reasons: queueVerdict.reasons,
        },
      },
    };
    return c.json(body, status === "unhealthy" ? 503 : 200);
  });
}
