// Helpers of the admin API suites (workerd): credentials, workers built with a clock (and optionally the run's local
// Upstash server), and JSON answers checked against the response schemas the OpenAPI document is built from.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { z } from "zod";
import type { Clock } from "../../src/core/clock.ts";
import { createWorker } from "../../src/index.ts";
import { GATEWAY, type TestWorker } from "./gateway.ts";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;
export const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const UPSTASH_AVAILABLE = Boolean(env.TEST_UPSTASH_URL);

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

/** A worker of its own (store, cache, counters) for the test env plus `overrides`, on `clock` when given. */
export function adminWorker(overrides: Record<string, unknown> = {}, clock?: Clock): TestWorker {
  const bindings: Record<string, unknown> = { ...env, ...overrides };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const w = createWorker(bindings, clock ? { clock } : {});
  return {
    async fetch(path, init) {
      const ctx = createExecutionContext();
      const req = new Request(`${GATEWAY}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
      const res = await w.fetch!(req, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  };
}

/** A worker on the run's local Upstash server: workers built this way share state like isolates of one deployment. */
export function upstashWorker(clock: Clock, overrides: Record<string, unknown> = {}): TestWorker {
  return adminWorker(
    {
      UPSTASH_REDIS_REST_URL: env.TEST_UPSTASH_URL,
      UPSTASH_REDIS_REST_TOKEN: env.TEST_UPSTASH_TOKEN,
      ...overrides,
    },
    clock,
  );
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
