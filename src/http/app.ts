// The Hono app: health, the tenant's own status, the admin API, and the quota-checked proxy for everything else.
import { Hono } from "hono";
import type { Clock } from "../core/clock.ts";
import type { Decision } from "../core/quota.ts";
import type { AdminService } from "../limiter/admin-service.ts";
import type { QuotaService } from "../limiter/quota-service.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Config } from "../policy/config.ts";
import type { Gate } from "../queue/admission.ts";
import { createAdminRoutes } from "./admin/routes.ts";
import { gateRefusal, releaseWhenDone, waitHeaders } from "./admission-response.ts";
import { identify } from "./identity.ts";
import { limitUsage } from "./limit-usage.ts";
import { preferredWaitSeconds } from "./prefer.ts";
import { problem, problemFromError } from "./problem.ts";
import { proxyToOrigin } from "./proxy.ts";
import { queueStatsResponse } from "./queue-stats.ts";
import { rateLimitHeaders } from "./ratelimit-headers.ts";

/** What the http layer is handed: narrow services, never the store. */
export interface AppDeps {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  quota: QuotaService;
  admin: AdminService;
  /** Admission of proxied requests: rate decision, concurrency slots, waiting. */
  gate: Gate;
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

const ADMIN_HEADERS = ["x-admin-key"];

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
        headers: [...headers, ["retry-after", "1"]],
      },
    );
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

  app.get("/queue/stats", (c) => queueStatsResponse(c.req.raw, deps.gate, config.adminToken));

  app.route("/admin", createAdminRoutes(deps));

  app.all("*", async (c) => {
    const req = c.req.raw;
    const path = new URL(req.url).pathname;
    if (!config.enabled || policy.isExempt(path))
      return proxyToOrigin(req, config.originUrl, { dropHeaders: ADMIN_HEADERS });
    const id = await identify(req, policy.policy.identity, config.jwtSecret);
    const waitUntil = waitUntilOf(c);
    const admission = await deps.gate.admit({
      who: id,
      cost: policy.price(req.method, path),
      waitUntil,
      signal: req.signal,
      preferWaitSec: preferredWaitSeconds(req.headers),
    });
    const { decision, hold } = admission;
    const headers = [...rateLimitHeaders(decision, clock.now()), ...waitHeaders(admission)];
    if (!admission.admitted)
      return gateRefusal(admission, headers, path) ?? refusal(decision, headers, path, clock.now());
    const res = await proxyToOrigin(req, config.originUrl, {
      tenant: decision.tenant,
      dropHeaders: ADMIN_HEADERS,
      onFailure: () => hold && waitUntil(hold.release()),
    });
    for (const [k, v] of headers) res.headers.set(k, v);
    return releaseWhenDone(res, hold, waitUntil, req.signal);
  });

  return app;
}
