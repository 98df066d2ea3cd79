// Zod schema of GET /admin/dashboard/data: what the dashboard page draws, for the serving isolate (per-minute
// decisions, tenant rankings, cache, store, leases) plus the cost estimates and the deny list.
import * as z from "zod";
import { costSchema } from "../admin/cost-schema.ts";

const int = () => z.number().int();

export const dashboardDataSchema = z.strictObject({
  success: z.literal(true),
  generated_at: z.string(),
  store: z.enum(["upstash", "memory"]),
  refresh_seconds: int(),
  minutes: z
    .array(
      z.strictObject({
        minute: z.string().describe("Start of the minute (UTC, ISO 8601)."),
        allowed: int(),
        denied: int(),
        shadow_denied: int().describe("Limit checks a shadow limit would have denied."),
        deny_blocks: int().describe("Requests the deny list refused."),
        store_calls_per_request: z.number(),
        store_commands_per_request: z.number(),
        store_latency_ms: z.number().describe("Mean store round trip in the minute (0: none)."),
      }),
    )
    .describe("The last 30 minutes of the serving isolate, oldest first, the current one last."),
  top_usage: z
    .array(z.strictObject({ tenant: z.string(), requests: int(), error: int() }))
    .describe(
      "Tenants with the most admitted requests since the isolate started (bounded top-k; error: overcount).",
    ),
  top_denials: z.array(z.strictObject({ tenant: z.string(), denials: int(), error: int() })),
  cache: z.strictObject({
    hit_rate_percent: z.number(),
    hits: int(),
    misses: int(),
    plan_hit_rate_percent: z.number(),
    size: int(),
    max_size: int(),
  }),
  store_latency: z.strictObject({
    calls: int(),
    mean_ms: z.number(),
    buckets: z
      .array(z.strictObject({ le_ms: z.number(), count: int() }))
      .describe("Round trips per latency band."),
  }),
  cost: costSchema,
  leases: z.strictObject({
    held: int().describe("Leases the isolate holds now."),
    grants: int(),
    units_granted: int(),
    units_returned: int(),
  }),
  deny: z.strictObject({
    total: int(),
    entries: z.array(
      z.strictObject({
        kind: z.enum(["tenant", "key", "ip"]),
        value: z.string(),
        reason: z.string().nullable(),
        created_at: z.string(),
      }),
    ),
  }),
});

export type DashboardData = z.output<typeof dashboardDataSchema>;
