// Helpers of the admin API suites (workerd): credentials, every route, workers on the run's local Upstash server,
// admin calls whose JSON answers are checked against the schemas /admin/openapi.json is built from, and 400 issues.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { z } from "zod";
import type { Clock, Timers } from "../../src/core/clock.ts";
import { clearResponseSchema } from "../../src/http/admin/schemas.ts";
import { expectProblem, type Fetcher, gateway, type TestWorker, workerWith } from "./gateway.ts";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;
export const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Bindings that put a worker on the run's local Upstash server. */
export const UPSTASH_BINDINGS = {
  UPSTASH_REDIS_REST_URL: env.TEST_UPSTASH_URL,
  UPSTASH_REDIS_REST_TOKEN: env.TEST_UPSTASH_TOKEN,
};

/** A key hash the admin route tests put on the deny list and take off again (no test uses the key). */
const DENY_KEY_HASH = "0123456789abcdef".repeat(4);

/** Every admin route with a request that is valid once authenticated. */
export const ADMIN_ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ["GET", "/admin/quota/stats"],
  ["GET", "/admin/quota/usage"],
  ["POST", "/admin/quota/cache/warm", { tenant_ids: ["t1"], plan_type: "free" }],
  ["POST", "/admin/quota/cache/clear"],
  ["GET", "/admin/quota/health"],
  ["POST", "/admin/quota/update", { tenant_id: "t1", tier: "pro" }],
  ["GET", "/admin/tenants/t1"],
  ["PUT", "/admin/tenants/t1", { tier: "pro" }],
  ["POST", "/admin/tenants/t1/reset"],
  ["GET", "/admin/metrics"],
  ["GET", "/admin/openapi.json"],
  ["GET", "/admin/deny"],
  ["PUT", "/admin/deny/tenants/t1", { reason: "test" }],
  ["DELETE", "/admin/deny/tenants/t1"],
  ["PUT", `/admin/deny/keys/${DENY_KEY_HASH}`],
  ["DELETE", `/admin/deny/keys/${DENY_KEY_HASH}`],
  ["PUT", "/admin/deny/ips/192.0.2.0%2F24"],
  ["DELETE", "/admin/deny/ips/192.0.2.0%2F24"],
  ["GET", "/admin/dashboard/data"],
];

/** The OpenAPI path template of a concrete path of ADMIN_ROUTES. */
export const pathTemplate = (path: string) =>
  path
    .replace(/\/t1(?=\/|$)/, "/{id}")
    .replace(DENY_KEY_HASH, "{sha256}")
    .replace("192.0.2.0%2F24", "{cidr}");

/** A worker on the run's local Upstash server: workers built this way share state like isolates of one deployment. */
export function upstashWorker(
  clock: Clock,
  overrides: Record<string, unknown> = {},
  timers?: Timers,
): TestWorker {
  return workerWith({ ...UPSTASH_BINDINGS, ...overrides }, clock, timers);
}

/** An admin call with the bearer token; a body is sent as JSON. */
export function adminInit(method = "GET", body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { ...BEARER, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  };
}

/** Calls an admin route and returns its JSON body, checked against `schema` (strict: no undocumented field). */
export async function adminJson<S extends z.ZodType>(
  fetcher: Fetcher,
  path: string,
  schema: S,
  init: RequestInit = adminInit(),
  status = 200,
): Promise<z.output<S>> {
  const res = await fetcher(path, init);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("x-origin")).toBeNull();
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${path}: response does not match its schema: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Every worker (the default export's when none is named) returns its leases to the store and sends its counters to
 * the fleet stats (POST /admin/quota/cache/clear), so that stored usage equals admitted units.
 */
export async function settle(...fetchers: Fetcher[]): Promise<void> {
  for (const f of fetchers.length ? fetchers : [gateway])
    await adminJson(f, "/admin/quota/cache/clear", clearResponseSchema, adminInit("POST"));
}

/** Asserts a 400 problem listing exactly the issues at `paths` (each named in the detail too); returns them. */
export async function expectIssues(
  res: Response,
  paths: string[],
): Promise<Array<{ path: string; message: string }>> {
  const p = await expectProblem(res, 400);
  expect(p.errors, JSON.stringify(p)).toBeDefined();
  expect(p.errors!.map((e) => e.path).sort()).toEqual([...paths].sort());
  for (const e of p.errors!) expect(e.message.length).toBeGreaterThan(0);
  for (const path of paths) expect(p.detail).toContain(path);
  return p.errors!;
}
