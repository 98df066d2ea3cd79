// GET /queue/stats: the serving isolate's waiting queue. Public figures for anyone; the depth per tenant (which names
// tenants) only with the admin token. The same body is the `queue` member of the admin stats.
import type { z } from "zod";
import type { Gate } from "../queue/admission.ts";
import type { QueueSnapshot } from "../queue/wait-stats.ts";
import { presentsAdminToken } from "./admin/auth.ts";
import type { queueStatsSchema } from "./admin/schemas.ts";

export type QueueStatsBody = z.output<typeof queueStatsSchema>;

export function queueStats(s: QueueSnapshot, admin: boolean): QueueStatsBody {
  return {
    scope: "isolate",
    depth: s.depth,
    max_depth: s.maxDepth,
    tenants_waiting: s.tenants.length,
    avg_wait_ms: s.avgWaitMs,
    max_wait_ms: s.maxWaitMs,
    oldest_wait_ms: s.oldestWaitMs,
    admitted: s.admitted,
    expired: s.expired,
    aborted: s.aborted,
    rejected: s.rejected,
    slots_in_use: s.slots,
    ...(admin ? { depth_by_tenant: Object.fromEntries(s.tenants) } : {}),
  };
}

/** The route's answer: a present but wrong credential gets the public view (a tenant's own bearer JWT is not an
 * admin token, and this route is public). */
export async function queueStatsResponse(
  req: Request,
  gate: Gate,
  adminToken: string | null,
): Promise<Response> {
  const admin = await presentsAdminToken(req, adminToken);
  return new Response(JSON.stringify(queueStats(gate.snapshot(), admin)), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
