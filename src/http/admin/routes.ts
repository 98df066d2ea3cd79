// The admin API under /admin (quota stats, usage, cache, health, tenant update and reset, metrics, OpenAPI): every
// route behind the admin token; inputs checked by the zod schemas that /admin/openapi.json is generated from; the
// work itself is the admin service's.
import { Hono } from "hono";
import type { z } from "zod";
import { dateOfDayId, utcDate } from "../../algorithms/calendar-window.ts";
import type { Plan } from "../../core/quota.ts";
import type { TenantRecord } from "../../limiter/admin-service.ts";
import type { ResolvedPlan } from "../../limiter/plan-resolver.ts";
import { decodeUsageCursor } from "../../limiter/usage-report.ts";
import type { AppDeps } from "../app.ts";
import { limitUsage, windowOf } from "../limit-usage.ts";
import { buildOpenApi } from "../openapi.ts";
import { problem, problemFromError } from "../problem.ts";
import { queueStats } from "../queue-stats.ts";
import { adminAuth } from "./auth.ts";
import {
  type adminHealthResponseSchema,
  type clearResponseSchema,
  createAdminSchemas,
  type statsResponseSchema,
  type tenantResetResponseSchema,
  type tenantUpdateResponseSchema,
  type tenantViewResponseSchema,
  usageQuerySchema,
  type usageResponseSchema,
  type warmResponseSchema,
} from "./schemas.ts";
import { cacheStatus, fleetStats, hashStatus, isolateStats, overallHealth } from "./stats.ts";
import { invalid, parseWith, queryOf, readJson } from "./validate.ts";

type Out<S extends z.ZodType> = z.output<S>;

/** Routes and their methods, for 405 answers with Allow (HEAD is served by GET). */
const ROUTES: Array<[path: string, methods: string[]]> = [
  ["/quota/stats", ["GET"]],
  ["/quota/usage", ["GET"]],
  ["/quota/cache/warm", ["POST"]],
  ["/quota/cache/clear", ["POST"]],
  ["/quota/health", ["GET"]],
  ["/quota/update", ["POST"]],
  ["/tenants/:id", ["GET", "PUT"]],
  ["/tenants/:id/reset", ["POST"]],
  ["/metrics", ["GET"]],
  ["/openapi.json", ["GET"]],
];

const planLimits = (plan: Plan) =>
  plan.limits.map((l) => ({
    name: l.name,
    dimension: l.dimension,
    window: windowOf(l),
    limit: l.limit,
    mode: l.mode,
    sync: l.sync,
  }));

/** The view's `source`: where the plan an isolate enforces comes from. */
const sourceOf = (r: ResolvedPlan): "admin" | "policy" | "default" =>
  r.source === "admin" || r.source === "policy" ? r.source : "default";

const overridesOf = (record: TenantRecord | null, r: ResolvedPlan, policyOverrides: unknown) =>
  (r.source === "admin"
    ? (record?.overrides ?? null)
    : r.source === "policy"
      ? (policyOverrides ?? null)
      : null) as Out<typeof tenantViewResponseSchema>["overrides"] | null;

export function createAdminRoutes(deps: AppDeps): Hono {
  const { config, admin: service, clock, metrics } = deps;
  const policy = config.policy;
  const schemas = createAdminSchemas(policy);
  const storeKind = service.storeKind;
  const ttlSeconds = Math.round(config.cacheTtlMs / 1000);
  let openapi: string | undefined;
  const admin = new Hono();

  admin.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  admin.use("*", adminAuth(config.adminToken));

  const tenantParam = (id: string | undefined) =>
    parseWith(schemas.tenantParams, { id: id ?? "" }, "path parameter").id;

  async function updateTenant(
    tenant: string,
    body: { tier: string; overrides?: z.output<typeof schemas.tenantBody>["overrides"] },
  ): Promise<Out<typeof tenantUpdateResponseSchema>> {
    const { record, resolved } = await service.updateTenant(tenant, body.tier, body.overrides);
    return {
      success: true,
      tenant_id: tenant,
      tier: resolved.plan.tier,
      overrides: record.overrides ?? null,
      version: record.version,
      updated_at: new Date(record.updatedAtMs).toISOString(),
      failure: resolved.plan.failure,
      limits: planLimits(resolved.plan),
      propagation_seconds: ttlSeconds,
    };
  }

  admin.get("/quota/stats", async (c) => {
    let fleet: Out<typeof statsResponseSchema>["fleet"] = null;
    let fleetError: string | undefined;
    try {
      const f = await service.fleet();
      fleet = fleetStats(f.date, f.counts);
    } catch (err) {
      fleetError = (err as Error).message;
    }
    const body: Out<typeof statsResponseSchema> = {
      success: true,
      store: storeKind,
      stats: isolateStats(service.isolate()),
      fleet,
      ...(fleetError === undefined ? {} : { fleet_error: fleetError }),
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

  admin.post("/quota/update", async (c) => {
    const body = parseWith(schemas.updateBody, await readJson(c.req.raw), "body");
    return c.json(await updateTenant(body.tenant_id, body));
  });

  admin.put("/tenants/:id", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const body = parseWith(schemas.tenantBody, await readJson(c.req.raw), "body");
    return c.json(await updateTenant(tenant, body));
  });

  admin.get("/tenants/:id", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const v = await service.viewTenant(tenant);
    const plan = v.resolved.plan;
    const body: Out<typeof tenantViewResponseSchema> = {
      success: true,
      tenant_id: tenant,
      tier: plan.tier,
      source: sourceOf(v.resolved),
      overrides: overridesOf(v.record, v.resolved, policy.staticTenant(tenant)?.overrides),
      version: v.record?.version ?? 0,
      updated_at: v.record ? new Date(v.record.updatedAtMs).toISOString() : null,
      failure: plan.failure,
      limits: limitUsage(v.states, clock.now()),
      cached_in_isolate: v.cached,
    };
    return c.json(body);
  });

  admin.post("/tenants/:id/reset", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const { plan, limits } = await service.resetTenant(tenant);
    const body: Out<typeof tenantResetResponseSchema> = {
      success: true,
      tenant_id: tenant,
      tier: plan.tier,
      reset: limits.map((l) => l.name),
    };
    return c.json(body);
  });

  admin.get("/metrics", () => {
    metrics.set("quotagate_cache_entries", service.isolate().books);
    return new Response(metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
    });
  });

  admin.get("/openapi.json", () => {
    openapi ??= JSON.stringify(buildOpenApi(schemas));
    return new Response(openapi, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  });

  for (const [path, methods] of ROUTES) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
    admin.all(path, (c) =>
      problem("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`, {
        instance: new URL(c.req.url).pathname,
        headers: { allow },
      }),
    );
  }
  admin.all("*", (c) =>
    problem("not_found", "no such admin route; see GET /admin/openapi.json", {
      instance: new URL(c.req.url).pathname,
    }),
  );

  return admin;
}
