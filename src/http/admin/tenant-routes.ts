// The tenant routes of the admin API: POST /admin/quota/update, PUT and GET /admin/tenants/:id and
// POST /admin/tenants/:id/reset. Each answer describes the plan the gateway enforces.
import type { Hono } from "hono";
import type { z } from "zod";
import type { Plan } from "../../core/quota.ts";
import type { TenantRecord } from "../../limiter/admin-service.ts";
import type { ResolvedPlan } from "../../limiter/plan-resolver.ts";
import type { AppDeps } from "../app.ts";
import { limitUsage, windowOf } from "../limit-usage.ts";
import type {
  AdminSchemas,
  tenantResetResponseSchema,
  tenantUpdateResponseSchema,
  tenantViewResponseSchema,
} from "./schemas.ts";
import { parseWith, readJson } from "./validate.ts";

type Out<S extends z.ZodType> = z.output<S>;

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

export function registerTenantRoutes(admin: Hono, deps: AppDeps, schemas: AdminSchemas): void {
  const { config, admin: service, clock } = deps;
  const policy = config.policy;
  const ttlSeconds = Math.round(config.cacheTtlMs / 1000);

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
      concurrency: resolved.plan.concurrency ?? null,
      limits: planLimits(resolved.plan),
      propagation_seconds: ttlSeconds,
    };
  }

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
      concurrency: plan.concurrency ?? null,
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
}
