// The Hono app: health, the tenant's own status, the admin API, and the quota-checked proxy for everything else.
import { Hono } from "hono";
import type { Clock } from "../core/clock.ts";
import type { Decision } from "../core/quota.ts";
import type { AdminService } from "../limiter/admin-service.ts";
import type { QuotaService } from "../limiter/quota-service.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Config } from "../policy/config.ts";
import { createAdminRoutes } from "./admin/routes.ts";
import { corsPolicy } from "./cors.ts";
import { proxiedPath } from "./edge.ts";
import { identify } from "./identity.ts";
import { limitUsage } from "./limit-usage.ts";
import { problem, problemFromError } from "./problem.ts";
import { proxyToOrigin } from "./proxy.ts";
import { rateLimitHeaders } from "./ratelimit-headers.ts";

/** What the http layer is handed: narrow services, never the store. */
export interface AppDeps {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  quota: QuotaService;
  admin: AdminService;
}

type Ctx = { readonly executionCtx: { waitUntil(promise: Promise<unknown>): void } };

/** ctx.waitUntil when the runtime gives one (always in Workers); otherwise background work is only logged if it
 * fails (a test harness awaits it through the limiter's flush). */
function waitUntilOf(c: Ctx): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return (p) => {
      p.catch((err) => console.error("quotagate: background task failed", err));
    };
  }
}

/** The 429 or 503 answer of a refused request. */
function refusal(
  decision: Decision,
  headers: Array<[string, string]>,
  path: string,
  nowMs: number,
): Response {
  if (decision.reason === "store_unavailable")
    return problem(
      "store_unavailable",
      "the quota store is unreachable and this tier fails closed; retry shortly",
      {
        instance: path,
        headers,
      },
    );
  if (decision.reason === "degraded") {
    const retryIn = Math.max(1, Math.ceil(((decision.retryAtMs ?? nowMs) - nowMs) / 1000));
    return problem(
      "quota_exceeded",
      `the quota store is unreachable and tenant "${decision.tenant}" has used this gateway's degraded share of its limits in this window; retry in ${retryIn} s`,
      {
        instance: path,
        headers,
        extensions: { tenant: decision.tenant, tier: decision.tier, retry_after: retryIn },
      },
    );
  }
  const violated = decision.states.filter((s) => s.exceeded && s.limit.mode === "enforce");
  const names = violated.map((s) => `${s.limit.name} (${s.limit.limit})`).join(", ") || "its quota";
  const retryAt = decision.retryAtMs ?? nowMs;
  const retryIn = Number.isFinite(retryAt) ? Math.max(1, Math.ceil((retryAt - nowMs) / 1000)) : null;
  const who = `tenant "${decision.tenant}" (tier ${decision.tier})`;
  return problem(
    "quota_exceeded",
    retryIn === null
      ? `${who}: this request costs more than ${names} allows in a whole window; it can never be admitted`
      : `${who} exceeded ${names}; retry in ${retryIn} s`,
    {
      instance: path,
      headers,
      extensions: {
        "violated-policies": violated.map((s) => s.limit.name),
        tenant: decision.tenant,
        tier: decision.tier,
        retry_after: retryIn,
      },
    },
  );
}

export function createApp(deps: AppDeps): Hono {
  const { config, quota, clock } = deps;
  const policy = config.policy;
  const app = new Hono();

  app.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  app.use("*", corsPolicy(policy));

  app.get("/health", (c) => c.json({ status: "ok", store: deps.admin.storeKind }));

  app.get("/quota/status", async (c) => {
    const id = await identify(c.req.raw, policy.policy.identity, config.jwtSecret);
    const plan = await quota.plan(id);
    const states = await quota.status(plan);
    return c.json({
      tenant: plan.tenant,
      tier: plan.tier,
      identified_by: id.via,
      limits: limitUsage(states, clock.now()),
    });
  });

  app.route("/admin", createAdminRoutes(deps));

  app.all("*", async (c) => {
    const req = c.req.raw;
    const path = new URL(req.url).pathname;
    const route = proxiedPath(req, policy);
    if (!config.enabled || policy.isExempt(route))
      return proxyToOrigin(req, config.originUrl, { path: route.forward, adminToken: config.adminToken });
    const id = await identify(req, policy.policy.identity, config.jwtSecret);
    const decision = await quota.admit(id, policy.price(req.method, route), waitUntilOf(c));
    const headers = rateLimitHeaders(decision, clock.now());
    if (!decision.allowed) return refusal(decision, headers, path, clock.now());
    const res = await proxyToOrigin(req, config.originUrl, {
      path: route.forward,
      tenant: decision.tenant,
      adminToken: config.adminToken,
    });
    for (const [k, v] of headers) res.headers.set(k, v);
    return res;
  });

  return app;
}
