// Zod schemas of the admin API (requests it validates, responses it returns) and of the public /health and
// /quota/status: the routes validate with them and /admin/openapi.json is generated from them, so the two agree.
import * as z from "zod";
import { dayIdFromDate } from "../../algorithms/calendar-window.ts";
import { decodeUsageCursor } from "../../limiter/usage-report.ts";
import type { CompiledPolicy } from "../../policy/compiled-policy.ts";
import { overridesSchema } from "../../policy/policy-schema.ts";
import { parseWindow } from "../../policy/window-spec.ts";
import { costSchema } from "./cost-schema.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Largest page of GET /admin/quota/usage. */
export const USAGE_PAGE_MAX = 1000;
/** Most tenants one POST /admin/quota/cache/warm takes. */
export const WARM_MAX = 1000;

export const dimensionSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "use 1-64 letters, digits, '_', '.' or '-'")
  .describe("Dimension of the day-window limit to list (a limit `<dimension>:day` of some tier).");

const dateSchema = z
  .string()
  .regex(DATE, "use a date as YYYY-MM-DD")
  .refine((d) => !DATE.test(d) || dayIdFromDate(d) !== null, "not a calendar date")
  .describe("UTC day as YYYY-MM-DD.");

export const usageQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(USAGE_PAGE_MAX, `must be at most ${USAGE_PAGE_MAX}`)
    .default(100)
    .describe(`Tenants per page (1-${USAGE_PAGE_MAX}).`),
  date_str: dateSchema.optional().describe("UTC day as YYYY-MM-DD; default: today, or the day of `cursor`."),
  cursor: z
    .string()
    .refine(
      (s) => decodeUsageCursor(s) !== null,
      "not a cursor returned by this route (use next_cursor as is)",
    )
    .optional()
    .describe("`next_cursor` of the previous page; it carries the date and dimension of the listing."),
  dimension: dimensionSchema.optional().describe("Default: `requests`, or the dimension of `cursor`."),
});

const problemIssueSchema = z.strictObject({ path: z.string(), message: z.string() });

export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(problemIssueSchema).optional().describe("Every validation issue, with its path."),
  })
  .describe("RFC 9457 problem details.");

const hitRate = z.number().min(0).max(100);

const breakerSchema = z
  .strictObject({
    state: z.enum(["closed", "open"]),
    opened_at: z.string().nullable().describe("When it opened (ISO 8601); null while closed."),
    failures: z.number().int().describe("Store failures since it last closed."),
  })
  .describe(
    "This isolate's circuit breaker: while open, requests that need the store are answered by their tier's failure policy at once, and one background probe per STORE_PROBE_INTERVAL_MS finds out when the store is back.",
  );

export const isolateStatsSchema = z
  .strictObject({
    cache_hits: z
      .number()
      .int()
      .describe("Decisions taken from leased allowance or a cached denial (no I/O)."),
    cache_misses: z.number().int().describe("Decisions that needed a store round trip."),
    total_requests: z.number().int().describe("Quota decisions taken by this isolate."),
    hit_rate_percent: hitRate,
    cache_size: z
      .number()
      .int()
      .describe("Tenant books in the isolate cache (each holds a plan, leases, denials, counters)."),
    cache_max_size: z.number().int(),
    cache_bytes: z.number().int(),
    cache_entries: z.strictObject({
      plan: z.number().int(),
      lease: z.number().int(),
      denial: z.number().int(),
      async: z.number().int(),
    }),
    redis_calls: z
      .number()
      .int()
      .describe("Store round trips of this isolate (acquire, flush, read, admin...)."),
    store_errors: z.number().int(),
    plan_cache_hits: z.number().int(),
    plan_cache_misses: z.number().int(),
    allowed: z.number().int(),
    denied: z.number().int(),
    lease_grants: z.number().int(),
    pending_deltas: z.number().int().describe("Usage deltas and lease returns waiting for the next flush."),
    store_breaker: breakerSchema,
  })
  .describe("The isolate that served this call (each isolate has its own cache and counters).");

export const fleetStatsSchema = z
  .strictObject({
    date: z.string(),
    allowed: z.number().int(),
    denied: z.number().int(),
    total_requests: z.number().int(),
    cache_hits: z.number().int(),
    cache_misses: z.number().int(),
    hit_rate_percent: hitRate,
    redis_calls: z.number().int(),
  })
  .describe(
    "Today's (UTC) totals flushed by every isolate to the store; each isolate lags by its flush interval.",
  );

export const queueStatsSchema = z
  .strictObject({
    scope: z
      .literal("isolate")
      .describe("Every figure is the serving isolate's: each isolate has its own queue."),
    depth: z.number().int().describe("Requests waiting now, all tenants."),
    max_depth: z
      .number()
      .int()
      .describe("Bound on `depth` (QUOTA_POLICY.queue.maxDepth); more are answered 429."),
    tenants_waiting: z.number().int().describe("Tenants with at least one waiting request."),
    avg_wait_ms: z.number().int().describe("Average wait of the last 100 requests that left the queue."),
    max_wait_ms: z.number().int().describe("Longest wait among those."),
    oldest_wait_ms: z.number().int().describe("How long the longest-waiting request has waited so far."),
    admitted: z.number().int().describe("Requests admitted after waiting."),
    expired: z.number().int().describe("Requests refused when their wait would pass its bound."),
    aborted: z.number().int().describe("Requests whose client left while they waited."),
    rejected: z.number().int().describe("Requests refused because the queue was full."),
    slots_in_use: z
      .strictObject({ tenant: z.number().int(), origin: z.number().int() })
      .describe("Concurrency slots held by this isolate's requests in flight, per scope."),
    depth_by_tenant: z
      .record(z.string(), z.number().int())
      .optional()
      .describe("Waiting requests per tenant: only with the admin token (it names tenants)."),
  })
  .describe("The waiting queue and concurrency slots of the serving isolate.");

export const statsResponseSchema = z.strictObject({
  success: z.literal(true),
  store: z.enum(["upstash", "memory"]),
  stats: isolateStatsSchema,
  fleet: fleetStatsSchema.nullable().describe("null when the store could not be read (see fleet_error)."),
  fleet_error: z.string().optional(),
  cost: costSchema,
  queue: queueStatsSchema,
});

export const usageResponseSchema = z.strictObject({
  success: z.literal(true),
  date: z.string(),
  dimension: z.string(),
  period_id: z.string(),
  tenants: z
    .record(z.string(), z.union([z.number(), z.literal("EXCEEDED")]))
    .describe(
      "Units counted today per tenant of this page; EXCEEDED once the tenant's day limit is reached.",
    ),
  statistics: z.strictObject({
    total_tenants: z.number().int().describe("Tenants counted in the whole day (every page)."),
    exceeded_tenants: z.number().int().describe("Tenants of this page at or over their day limit."),
    active_tenants: z.number().int().describe("Tenants of this page with usage under their day limit."),
    returned: z.number().int().describe("Tenants in this page."),
    leased_units_excluded: z
      .number()
      .int()
      .describe("Units the serving isolate holds leased but unspent, left out of this page's figures."),
    limit: z.number().int(),
    truncated: z.boolean().describe("More pages follow (next_cursor is set)."),
  }),
  next_cursor: z.string().nullable(),
});

export const warmResponseSchema = z.strictObject({
  success: z.literal(true),
  warmed: z.number().int(),
  plan_type: z.string(),
  ttl_seconds: z.number().int(),
  cache_size: z.number().int(),
});

export const clearResponseSchema = z.strictObject({
  success: z.literal(true),
  cleared_entries: z.number().int(),
  message: z.string(),
});

export const adminHealthResponseSchema = z.strictObject({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  store: z.enum(["upstash", "memory"]),
  checks: z.strictObject({
    redis_connection: z.string().describe('"ok" or "error: <why>".'),
    cache_performance: z.strictObject({
      hit_rate_percent: hitRate,
      status: z.enum(["good", "acceptable", "poor"]),
      requests: z.number().int().describe("Decisions the hit rate is measured on (this isolate)."),
    }),
    store_breaker: breakerSchema,
    hash_storage: z.strictObject({
      tenant_count: z.number().int().nullable(),
      estimated_size_mb: z.number().nullable(),
      shards: z.number().int(),
      largest_shard_estimate_mb: z.number().nullable(),
      status: z.enum(["ok", "warn", "unknown"]),
    }),
    queue: z
      .strictObject({
        depth: z.number().int(),
        max_tenant_depth: z.number().int(),
        avg_wait_ms: z.number().int(),
        status: z.enum(["ok", "warn"]),
        reasons: z.array(z.string()),
      })
      .describe(
        "warn (degraded) above 50 waiting requests of one tenant, 1000 in all, or an average wait over 60 s.",
      ),
  }),
});

const planLimitSchema = z.strictObject({
  name: z.string(),
  dimension: z.string(),
  window: z.string(),
  limit: z.number().int(),
  mode: z.enum(["enforce", "shadow"]),
  sync: z.enum(["strict", "async"]),
});

const limitUsageSchema = z.strictObject({
  ...planLimitSchema.shape,
  used: z.number().int(),
  remaining: z.number().int(),
  reset_at: z.string(),
  reset_in_seconds: z.number().int(),
});

/** The tenant's concurrency limit in effect (its override, else its tier's). */
const concurrencyField = z
  .number()
  .int()
  .nullable()
  .describe("Requests of the tenant in flight at once, across isolates; null: no limit.");

export const tenantUpdateResponseSchema = z.strictObject({
  success: z.literal(true),
  tenant_id: z.string(),
  tier: z.string(),
  overrides: overridesSchema.nullable(),
  version: z.number().int(),
  updated_at: z.string(),
  failure: z.enum(["open", "closed", "degraded"]),
  concurrency: concurrencyField,
  limits: z.array(planLimitSchema),
  propagation_seconds: z
    .number()
    .int()
    .describe("Other isolates apply the change once their cached plan expires (QUOTA_CACHE_TTL)."),
});

export const tenantViewResponseSchema = z.strictObject({
  success: z.literal(true),
  tenant_id: z.string(),
  tier: z.string(),
  source: z
    .enum(["admin", "policy", "default"])
    .describe(
      "admin: a record set through this API; policy: QUOTA_POLICY.tenants; default: the default tier.",
    ),
  overrides: overridesSchema.nullable(),
  version: z.number().int().describe("0 when no record was ever written."),
  updated_at: z.string().nullable(),
  failure: z.enum(["open", "closed", "degraded"]),
  concurrency: concurrencyField,
  limits: z.array(limitUsageSchema),
  cached_in_isolate: z.boolean(),
});

export const tenantResetResponseSchema = z.strictObject({
  success: z.literal(true),
  tenant_id: z.string(),
  tier: z.string(),
  reset: z
    .array(z.string())
    .describe("Names of the limits whose current period was zeroed: the tenant's, and those of every tier."),
});

export const publicHealthResponseSchema = z.strictObject({
  status: z.literal("ok"),
  store: z.enum(["upstash", "memory"]),
});

export const quotaStatusResponseSchema = z.strictObject({
  tenant: z.string(),
  tier: z.string(),
  identified_by: z.enum(["apiKey", "jwt", "header", "ip"]),
  limits: z.array(limitUsageSchema),
});

/** Schemas that depend on the policy: tier names and the tenant id length come from it. */
export function createAdminSchemas(policy: CompiledPolicy) {
  const tierNames = policy.tierNames as [string, ...string[]];
  const tier = z.enum(tierNames).describe("A tier of the policy.");
  const tenantId = z
    .string()
    .min(1, "must not be empty")
    .max(
      policy.policy.identity.maxIdLength,
      `must be at most ${policy.policy.identity.maxIdLength} characters`,
    )
    .regex(/^[\x21-\x7e]*$/, "use printable ASCII without spaces");

  /** An override of a calendar or sliding window needs an amount unless the tier has that limit to inherit from. */
  const inheritable = (
    v: { tier: string; overrides?: z.output<typeof overridesSchema> | undefined },
    ctx: z.core.$RefinementCtx,
  ) => {
    if (!policy.hasTier(v.tier)) return;
    const ids = new Set(policy.plan("-", v.tier).limits.map((l) => l.id));
    v.overrides?.limits?.forEach((l, i) => {
      const parsed = parseWindow(l.window);
      if (
        parsed.ok &&
        parsed.window.kind !== "bucket" &&
        l.limit === undefined &&
        !ids.has(`${l.dimension}:${l.window}`)
      )
        ctx.addIssue({
          code: "custom",
          path: ["overrides", "limits", i, "limit"],
          message: `required: tier "${v.tier}" has no ${l.dimension}:${l.window} limit to inherit from`,
        });
    });
  };

  const tenantBody = z.strictObject({ tier, overrides: overridesSchema.optional() });
  return {
    tier,
    tenantId,
    tenantParams: z.strictObject({ id: tenantId.describe("Tenant id.") }),
    warmBody: z.strictObject({
      tenant_ids: z
        .array(tenantId)
        .min(1, "list at least one tenant")
        .max(WARM_MAX, `at most ${WARM_MAX} tenants`),
      plan_type: tier.describe("Tier whose plan is cached for these tenants in the serving isolate."),
    }),
    updateBody: z.strictObject({ tenant_id: tenantId, ...tenantBody.shape }).superRefine(inheritable),
    tenantBody: tenantBody.superRefine(inheritable),
  };
}

export type AdminSchemas = ReturnType<typeof createAdminSchemas>;
