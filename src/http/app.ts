// The Hono app: health, the tenant's own status, the admin API, and the quota-checked proxy for everything else.
import { Hono } from "hono";
import type { Decision } from "../core/quota.ts";
import type { Deps } from "../deps.ts";
import { loadPlan } from "../limiter/plans.ts";
import { createAdminRoutes } from "./admin/routes.ts";
import { corsPolicy } from "./cors.ts";
import { proxiedPath } from "./edge.ts";
import { type Identity, identify } from "./identity.ts";
import { limitUsage } from "./limit-usage.ts";
import { problem, problemFromError } from "./problem.ts";
import { proxyToOrigin } from "./proxy.ts";
import { rateLimitHeaders } from "./ratelimit-headers.ts";

export type AppEnv = { Variables: { identity: Identity } };

type Ctx = { readonly executionCtx: { waitUntil(promise: Promise<unknown>): void } };

/** ctx.waitUntil when the runtime gives one (always in Workers); otherwise the promise is awaited by the caller's
 * test harness through limiter.flush(). */
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

export function createApp(deps: Deps): Hono<AppEnv> {
  const { config, limiter, store, clock } = deps;
  const policy = config.policy;
  const app = new Hono<AppEnv>();

  app.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  app.use("*", corsPolicy(policy));

  const planOf = (id: Identity) =>
    limiter.plan(
      id.tenant,
      () => loadPlan(policy, store, id.tenant, id.tierHint),
      () => {
        const fixed = policy.policy.tenants[id.tenant];
        const tier =
          [fixed?.tier, id.tierHint].find((t): t is string => !!t && policy.hasTier(t)) ??
          policy.policy.defaultTier;
        return policy.plan(id.tenant, tier, fixed?.overrides);
      },
    );

  app.get("/health", (c) =>
    c.json({
      status: "ok",
      store: store.locality === "remote" ? "upstash" : "memory",
    }),
  );

  app.get("/quota/status", async (c) => {
    const id = await identify(c.req.raw, policy.policy.identity, config.jwtSecret);
    const plan = await planOf(id);
    let states: Awaited<ReturnType<typeof limiter.status>>;
    try {
      states = await limiter.status(plan);
    } catch (err) {
      return problem(
        "store_unavailable",
        `usage could not be read from the store: ${(err as Error).message}`,
        {
          headers: { "retry-after": "1" },
        },
      );
    }
    const now = clock.now();
    return c.json({
      tenant: plan.tenant,
      tier: plan.tier,
      identified_by: id.via,
      limits: limitUsage(states, now),
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
    const plan = await planOf(id);
    const decision: Decision = await limiter.decide(plan, policy.price(req.method, route), waitUntilOf(c));
    const headers = rateLimitHeaders(decision, clock.now());
    if (!decision.allowed) {
      if (decision.reason === "store_unavailable") {
        return problem(
          "store_unavailable",
          "the quota store is unreachable and this tier fails closed; retry shortly",
          {
            instance: path,
            headers: [...headers, ["retry-after", "1"]],
          },
        );
      }
      const violated = decision.states.filter((s) => s.exceeded && s.limit.mode === "enforce");
      const names = violated.map((s) => `${s.limit.name} (${s.limit.limit})`).join(", ") || "its quota";
      const retryAt = decision.retryAtMs ?? clock.now();
      const retryIn = Number.isFinite(retryAt)
        ? Math.max(1, Math.ceil((retryAt - clock.now()) / 1000))
        : null;
      return problem(
        "quota_exceeded",
        retryIn === null
          ? `tenant "${plan.tenant}" (tier ${plan.tier}): this request costs more than ${names} allows in a whole window; it can never be admitted`
          : `tenant "${plan.tenant}" (tier ${plan.tier}) exceeded ${names}; retry in ${retryIn} s`,
        {
          instance: path,
          headers,
          extensions: {
            "violated-policies": violated.map((s) => s.limit.name),
            tenant: plan.tenant,
            tier: plan.tier,
            retry_after: retryIn,
          },
        },
      );
    }
    const res = await proxyToOrigin(req, config.originUrl, {
      path: route.forward,
      tenant: plan.tenant,
      adminToken: config.adminToken,
    });
    for (const [k, v] of headers) res.headers.set(k, v);
    return res;
  });

  return app;
}
