// The admin API under /admin (seed 000's quota monitoring, seed 003's tenant update, tenants, metrics, OpenAPI): every
// route behind the admin token; inputs checked by the zod schemas that /admin/openapi.json is generated from.
import { Hono } from "hono";
import type { z } from "zod";
import { calendarPeriod } from "../../algorithms/calendar-window.ts";
import { QuotaGateError } from "../../core/errors.ts";
import type { LimitSpec, Plan } from "../../core/quota.ts";
import type { Deps } from "../../deps.ts";
import { loadPlan } from "../../limiter/plans.ts";
import { dayLimitSpec, decodeUsageCursor, usageReport, utcDate } from "../../limiter/usage-report.ts";
import { USAGE_SHARDS } from "../../store/keys.ts";
import type { TenantOverrides, TenantRecord } from "../../store/store.ts";
import { limitUsage, windowOf } from "../limit-usage.ts";
import { buildOpenApi } from "../openapi.ts";
import { problem, problemFromError } from "../problem.ts";
import { adminAuth } from "./auth.ts";
import {
  type adminHealthResponseSchema,
  type clearResponseSchema,
  createAdminSchemas,
  type statsResponseSchema,
  type storedOverridesSchema,
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

/** `20261123` -> `2026-11-23`. */
const dateOfDayId = (id: string) => `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;

export function createAdminRoutes(deps: Deps): Hono {
  const { config, limiter, store, clock, metrics } = deps;
  const policy = config.policy;
  const schemas = createAdminSchemas(policy);
  const storeKind = store.locality === "remote" ? "upstash" : "memory";
  const ttlSeconds = Math.round(config.cacheTtlMs / 1000);
  let openapi: string | undefined;
  const admin = new Hono();

  admin.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  admin.use("*", adminAuth(config.adminToken));

  /** A store round trip of the admin API: counted, and a failure becomes a 503 problem. */
  async function fromStore<T>(what: string, call: () => Promise<T>): Promise<T> {
    metrics.inc("quotagate_store_calls_total", { op: "admin" });
    try {
      return await call();
    } catch (err) {
      metrics.inc("quotagate_store_errors_total", { op: "admin" });
      throw new QuotaGateError(
        "store_unavailable",
        `the store failed while ${what}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  const tenantParam = (id: string | undefined) =>
    parseWith(schemas.tenantParams, { id: id ?? "" }, "path parameter").id;

  /** Overrides as stored: the validated request, minus the defaults zod filled in (mode, sync), so that what the
   * request left out keeps following the tier. */
  function storedOverrides(
    raw: unknown,
    parsed: z.output<typeof schemas.tenantBody>["overrides"],
  ): TenantOverrides | undefined {
    if (!parsed) return undefined;
    const rawLimits = ((raw as { limits?: unknown[] }).limits ?? []) as Array<Record<string, unknown>>;
    return {
      ...(parsed.limits
        ? {
            limits: parsed.limits.map((l, i) => {
              const given = rawLimits[i] ?? {};
              return {
                dimension: l.dimension,
                window: l.window,
                ...(l.limit !== undefined ? { limit: l.limit } : {}),
                ...("mode" in given ? { mode: l.mode } : {}),
                ...("sync" in given ? { sync: l.sync } : {}),
                ...(l.name !== undefined ? { name: l.name } : {}),
              };
            }),
          }
        : {}),
      ...(parsed.failure ? { failure: parsed.failure } : {}),
    };
  }

  async function updateTenant(
    tenant: string,
    body: { tier: string; overrides?: z.output<typeof schemas.tenantBody>["overrides"] },
    rawOverrides: unknown,
  ): Promise<Out<typeof tenantUpdateResponseSchema>> {
    const overrides = storedOverrides(rawOverrides, body.overrides);
    const plan = policy.plan(tenant, body.tier, overrides);
    const record: TenantRecord = await fromStore("writing the tenant", () =>
      store.putTenant(tenant, { tier: body.tier, ...(overrides ? { overrides } : {}) }, clock.now()),
    );
    // This isolate applies the change at once; the others when their cached plan expires (QUOTA_CACHE_TTL).
    limiter.forgetPlan(tenant);
    return {
      success: true,
      tenant_id: tenant,
      tier: record.tier,
      overrides: (overrides ?? null) as Out<typeof storedOverridesSchema> | null,
      version: record.version,
      updated_at: new Date(record.updatedAtMs).toISOString(),
      failure: plan.failure,
      limits: planLimits(plan),
      propagation_seconds: ttlSeconds,
    };
  }

  admin.get("/quota/stats", async (c) => {
    const now = clock.now();
    let fleet: Out<typeof statsResponseSchema>["fleet"] = null;
    let fleetError: string | undefined;
    try {
      const raw = await fromStore("reading the fleet stats", () =>
        store.getStats(calendarPeriod("day", now).id),
      );
      fleet = fleetStats(utcDate(now), raw);
    } catch (err) {
      fleetError = (err as Error).message;
    }
    const body: Out<typeof statsResponseSchema> = {
      success: true,
      store: storeKind,
      stats: isolateStats(limiter),
      fleet,
      ...(fleetError === undefined ? {} : { fleet_error: fleetError }),
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
    // A tenant's day limit: its plan when this isolate has it cached, else the default tier's (documented).
    const defaultCap = policy
      .plan("-", policy.policy.defaultTier)
      .limits.find((l) => l.id === limitId)?.limit;
    const report = await fromStore("listing usage", () =>
      usageReport(store, {
        dimension,
        date,
        pageSize: q.limit,
        cursor,
        dayLimitOf: (t) => {
          const plan = limiter.cachedPlan(t);
          return plan?.limits.find((l) => l.id === limitId)?.limit ?? defaultCap;
        },
        heldOf: (t, limit, periodId) => limiter.heldAllowance(t, limit, periodId),
      }),
    );
    const body: Out<typeof usageResponseSchema> = { success: true, ...report };
    return c.json(body);
  });

  admin.post("/quota/cache/warm", async (c) => {
    const body = parseWith(schemas.warmBody, await readJson(c.req.raw), "body");
    const ids = [...new Set(body.tenant_ids)];
    for (const id of ids) limiter.warmPlan(policy.plan(id, body.plan_type));
    const out: Out<typeof warmResponseSchema> = {
      success: true,
      warmed: ids.length,
      plan_type: body.plan_type,
      ttl_seconds: ttlSeconds,
      cache_size: limiter.cache.size,
    };
    return c.json(out);
  });

  admin.post("/quota/cache/clear", async (c) => {
    const entries = limiter.cache.size;
    await limiter.clear();
    const out: Out<typeof clearResponseSchema> = {
      success: true,
      cleared_entries: entries,
      message: "leases returned, counters flushed, isolate cache emptied",
    };
    return c.json(out);
  });

  admin.get("/quota/health", async (c) => {
    const now = clock.now();
    const stats = isolateStats(limiter);
    const [ping, size] = await Promise.allSettled([
      fromStore("pinging", () => store.ping()),
      fromStore("sizing the usage hash", () =>
        store.usageSize(dayLimitSpec("requests"), calendarPeriod("day", now).id),
      ),
    ]);
    const storeOk = ping.status === "fulfilled";
    const sized = size.status === "fulfilled" ? size.value : null;
    const mb = sized ? Math.round((sized.bytes / 1_048_576) * 100) / 100 : null;
    const shardMb = mb === null ? null : Math.round((mb / USAGE_SHARDS) * 100) / 100;
    const cache = cacheStatus(stats.hit_rate_percent, stats.total_requests);
    const hash = hashStatus(shardMb);
    const status = overallHealth(storeOk, cache, hash);
    const body: Out<typeof adminHealthResponseSchema> = {
      status,
      store: storeKind,
      checks: {
        redis_connection: storeOk
          ? "ok"
          : `error: ${((ping as PromiseRejectedResult).reason as Error).message}`,
        cache_performance: {
          hit_rate_percent: stats.hit_rate_percent,
          status: cache,
          requests: stats.total_requests,
        },
        hash_storage: {
          tenant_count: sized?.tenants ?? null,
          estimated_size_mb: mb,
          shards: USAGE_SHARDS,
          largest_shard_estimate_mb: shardMb,
          status: hash,
        },
      },
    };
    return c.json(body, status === "unhealthy" ? 503 : 200);
  });

  admin.post("/quota/update", async (c) => {
    const raw = await readJson(c.req.raw);
    const body = parseWith(schemas.updateBody, raw, "body");
    return c.json(await updateTenant(body.tenant_id, body, (raw as { overrides?: unknown }).overrides));
  });

  admin.put("/tenants/:id", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const raw = await readJson(c.req.raw);
    const body = parseWith(schemas.tenantBody, raw, "body");
    return c.json(await updateTenant(tenant, body, (raw as { overrides?: unknown }).overrides));
  });

  admin.get("/tenants/:id", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const [record, plan] = await fromStore("reading the tenant", () =>
      Promise.all([store.getTenant(tenant), loadPlan(policy, store, tenant)]),
    );
    const states = await fromStore("reading usage", () => limiter.status(plan));
    const now = clock.now();
    const fixed = policy.policy.tenants[tenant];
    const body: Out<typeof tenantViewResponseSchema> = {
      success: true,
      tenant_id: tenant,
      tier: plan.tier,
      source: record && policy.hasTier(record.tier) ? "admin" : fixed ? "policy" : "default",
      overrides: (record?.overrides ?? fixed?.overrides ?? null) as Out<typeof storedOverridesSchema> | null,
      version: record?.version ?? 0,
      updated_at: record ? new Date(record.updatedAtMs).toISOString() : null,
      failure: plan.failure,
      limits: limitUsage(states, now),
      cached_in_isolate: limiter.cachedPlan(tenant) !== undefined,
    };
    return c.json(body);
  });

  admin.post("/tenants/:id/reset", async (c) => {
    const tenant = tenantParam(c.req.param("id"));
    const plan = await fromStore("reading the tenant", () => loadPlan(policy, store, tenant));
    // The tenant's limits and every tier's: a credential may name another tier than the one its record resolves to.
    const limits = new Map<string, LimitSpec>();
    for (const l of [...plan.limits, ...policy.tierNames.flatMap((t) => policy.plan(tenant, t).limits)])
      if (!limits.has(l.id)) limits.set(l.id, l);
    // Dropped before and after: a lease granted while the reset is under way was zeroed with the rest.
    limiter.discardTenant(tenant);
    await fromStore("resetting usage", () => store.reset(tenant, [...limits.values()], clock.now()));
    limiter.discardTenant(tenant);
    const body: Out<typeof tenantResetResponseSchema> = {
      success: true,
      tenant_id: tenant,
      tier: plan.tier,
      reset: [...limits.values()].map((l) => l.name),
    };
    return c.json(body);
  });

  admin.get("/metrics", () => {
    metrics.set("quotagate_cache_entries", limiter.cache.size);
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
