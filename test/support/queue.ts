// Helpers of the waiting-queue suites (workerd): GET /queue/stats through a worker, checked against its schema, and
// waiting (by asking, never by sleeping) until a number of requests are queued.
import { expect } from "vitest";
import type { z } from "zod";
import { queueStatsSchema } from "../../src/http/admin/schemas.ts";
import { BEARER } from "./admin.ts";
import type { Fetcher } from "./gateway.ts";

export type QueueStats = z.output<typeof queueStatsSchema>;

/** GET /queue/stats (the admin view with `admin`), validated by the schema the OpenAPI document shows. */
export async function queueStatsOf(f: Fetcher, admin = false): Promise<QueueStats> {
  const res = await f("/queue/stats", admin ? { headers: BEARER } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return queueStatsSchema.parse(await res.json());
}

/** Asks until `depth` requests wait (each ask lets the requests in flight make progress); returns the stats. */
export async function untilQueued(f: Fetcher, depth: number): Promise<QueueStats> {
  let s = await queueStatsOf(f, true);
  for (let i = 0; i < 2_000 && s.depth !== depth; i++) s = await queueStatsOf(f, true);
  expect(s.depth).toBe(depth);
  return s;
}

/** Sends `n` requests of `tenant` at once with `headers`; returns their pending responses. */
export function burst(
  f: Fetcher,
  tenant: string,
  n: number,
  headers: Record<string, string> = {},
  path = "/v1/q",
) {
  return Array.from({ length: n }, (_, i) =>
    f(`${path}/${i}`, { headers: { "X-Tenant-ID": tenant, ...headers } }),
  );
}
