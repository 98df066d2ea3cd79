// Zod schema of the cost estimates GET /admin/quota/stats (and the dashboard) report: Redis commands per request and
// the Upstash dollars they come to, for the serving isolate and for today's fleet totals.
import * as z from "zod";

const requestCost = {
  store_commands: z.number().int().describe("Redis commands counted (as Upstash bills them; estimated)."),
  requests: z.number().int().describe("Quota decisions they served."),
  commands_per_request: z.number(),
  usd_per_million_requests: z.number(),
};

export const costSchema = z
  .strictObject({
    price_per_100k_commands_usd: z.number().describe("UPSTASH_PRICE_PER_100K."),
    isolate: z.strictObject(requestCost).describe("The serving isolate since it started."),
    fleet: z
      .strictObject({
        ...requestCost,
        usd_today: z.number().describe("Today's (UTC) commands so far, in dollars."),
        usd_per_day: z.number().describe("Today's rate carried over 24 hours."),
      })
      .nullable()
      .describe("Today's totals flushed by every isolate; null when the store could not be read."),
  })
  .describe("Estimated Upstash cost of the Redis commands quotagate spends.");
