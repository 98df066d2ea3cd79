// Helpers of the workerd end-to-end suites: requests through the real worker, workers built for a policy, a frozen
// clock, and what the demo origin echoes back.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { Clock, Timers } from "../../src/core/clock.ts";
import { createWorker, resetForTests } from "../../src/index.ts";
import { defaultPolicy } from "../../src/policy/default-policy.ts";
import type { PolicyInput } from "../../src/policy/policy-schema.ts";

/** Host the tests address the gateway by (any host works: the worker proxies by path to ORIGIN_URL). */
export const GATEWAY = "http://gateway.test";

/** 2026-11-23T12:00:30Z: half way through a minute, so a run never straddles a window boundary. */
export const FROZEN_AT_MS = Date.UTC(2026, 10, 23, 12, 0, 30);
/** Seconds from FROZEN_AT_MS to the end of its minute and of its UTC day. */
export const MINUTE_LEFT_S = 30;
export const DAY_LEFT_S = 11 * 3600 + 59 * 60 + 30;

export const PROBLEM_JSON = "application/problem+json";
export const QUOTA_EXCEEDED_TYPE = "https://iana.org/assignments/http-problem-types#quota-exceeded";

/** The free tier's RateLimit-Policy (default policy). */
export const FREE_POLICY_HEADER = '"requests-minute";q=100;w=60, "requests-day";q=1000;w=86400';

/**
 * Fresh worker state before each test (new memory store, cache and counters: the worker shares the test isolate)
 * and a frozen wall clock (vi.setSystemTime mocks Date only; no timers are faked and nothing sleeps).
 */
export function useGatewayState(): void {
  beforeEach(() => {
    vi.setSystemTime(FROZEN_AT_MS);
    resetForTests();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** A request through the worker's default export, as Cloudflare would deliver it. */
export function gateway(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${GATEWAY}${path}`, init);
}

export const asTenant = (tenant: string, headers: Record<string, string> = {}): RequestInit => ({
  headers: { "X-Tenant-ID": tenant, ...headers },
});

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

export interface TestWorker {
  fetch: Fetcher;
}

/**
 * A worker built by createWorker for the test env plus `overrides` (its own store, cache, counters and policy; an
 * override of `undefined` unsets that binding), on `clock` and `timers` when given.
 */
export function workerWith(
  overrides: Record<string, unknown> = {},
  clock?: Clock,
  timers?: Timers,
): TestWorker {
  const bindings: Record<string, unknown> = { ...env, ...overrides };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const w = createWorker(bindings, { ...(clock ? { clock } : {}), ...(timers ? { timers } : {}) });
  return {
    async fetch(path, init) {
      const ctx = createExecutionContext();
      // An incoming request as the runtime would hand it over (its `cf` object is not used by the gateway).
      const req = new Request(`${GATEWAY}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
      const res = await w.fetch!(req, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  };
}

/** Sends `n` proxied requests for a tenant through `f`, one after the other; returns the statuses. */
export async function traffic(tenant: string, n: number, f: Fetcher = gateway): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await f(`/v1/work/${i}`, asTenant(tenant));
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

/** The default policy with some top-level members replaced, as the QUOTA_POLICY var (JSON). */
export function policyJson(patch: Partial<PolicyInput>): string {
  return JSON.stringify({ ...defaultPolicy, ...patch });
}

/** What the demo origin answers on its catch-all routes: the request as it arrived there. */
export interface OriginEcho {
  ok: true;
  method: string;
  path: string;
  /** The request target exactly as it arrived (path and query, nothing resolved or decoded). */
  target: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body_bytes: number;
}

/** Asserts the response came from the demo origin and returns its echo of the request. */
export async function originEcho(res: Response): Promise<OriginEcho> {
  expect(res.status).toBe(200);
  expect(res.headers.get("x-origin")).toBe("demo");
  const echo = (await res.json()) as OriginEcho;
  expect(echo.ok).toBe(true);
  return echo;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

/** Asserts an RFC 9457 problem response with `status` and returns its body. */
export async function expectProblem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe(PROBLEM_JSON);
  // The gateway answered: the origin (which marks its responses) never saw the request.
  expect(res.headers.get("x-origin")).toBeNull();
  const body = (await res.json()) as Problem;
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^(urn:quotagate:problem:|https:\/\/iana\.org\/)/);
  expect(body.title).toEqual(expect.any(String));
  expect(body.detail).toEqual(expect.any(String));
  return body;
}

export interface StatusBody {
  tenant: string;
  tier: string;
  identified_by: string;
  limits: Array<{
    name: string;
    dimension: string;
    window: string;
    limit: number;
    used: number;
    remaining: number;
    reset_at: string;
    reset_in_seconds: number;
    mode: string;
    sync: string;
  }>;
}

/** GET /quota/status through `fetcher` with `init`'s credentials; asserts a 200 answered by the gateway. */
export async function quotaStatus(init: RequestInit, fetcher: Fetcher = gateway): Promise<StatusBody> {
  const res = await fetcher("/quota/status", init);
  expect(res.status).toBe(200);
  expect(res.headers.get("x-origin")).toBeNull();
  return (await res.json()) as StatusBody;
}

export async function sha256Hex(data: string | BufferSource): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
