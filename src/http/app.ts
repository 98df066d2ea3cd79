// The Hono app: health, the tenant's own status, the admin API, and the quota-checked proxy for everything else.
import { Hono } from "hono";
import type { Clock } from "../core/clock.ts";
import type { AdminService } from "../limiter/admin-service.ts";
import type { DenyList } from "../limiter/deny-list.ts";
import type { QuotaService } from "../limiter/quota-service.ts";
import type { Activity } from "../metrics/activity.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Config } from "../policy/config.ts";
import type { Gate } from "../queue/admission.ts";
import { createDenyRoutes } from "./admin/deny-routes.ts";
import { createAdminRoutes } from "./admin/routes.ts";
import { corsPolicy } from "./cors.ts";
import { createDashboardRoutes } from "./dashboard/routes.tsx";
import { proxiedPath } from "./edge.ts";
import { identify } from "./identity.ts";
import { limitUsage } from "./limit-usage.ts";
import { type QuotaEnv, quotaMiddleware } from "./middleware/quota.ts";
import { problemFromError } from "./problem.ts";
import { proxyToOrigin } from "./proxy.ts";
import { queueStatsResponse } from "./queue-stats.ts";

/** What the http layer is handed: narrow services, never the store. */
export interface AppDeps {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  quota: QuotaService;
  admin: AdminService;
  deny: DenyList;
  /** Per-minute figures and tenant rankings of this isolate, for the dashboard. */
  activity: Activity;
  /** Admission of proxied requests: rate decision, concurrency slots, waiting. */
  gate: Gate;
}

export function createApp(deps: AppDeps): Hono<QuotaEnv> {
  const { config, quota, clock } = deps;
  const policy = config.policy;
  const app = new Hono<QuotaEnv>();

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

  app.get("/queue/stats", (c) => queueStatsResponse(c.req.raw, deps.gate, config.adminToken));

  app.route("/admin/deny", createDenyRoutes(deps));
  app.route("/admin/dashboard", createDashboardRoutes(deps));
  app.route("/admin", createAdminRoutes(deps));

  // Everything else: proxied under quota (exempt routes and a disabled gate pass the middleware unchecked). A path
  // that must not reach the origin (an admin path in another spelling, a GET with a body) is refused first, uncharged.
  app.all(
    "*",
    async (c, next) => {
      proxiedPath(c.req.raw, policy);
      await next();
    },
    quotaMiddleware(deps),
    (c) => {
      const decision = c.get("quota");
      return proxyToOrigin(c.req.raw, config.originUrl, {
        path: policy.normalisePath(new URL(c.req.url).pathname).forward,
        ...(decision ? { tenant: decision.tenant } : {}),
        adminToken: config.adminToken,
        ...c.get("quotaForward"),
      });
    },
  );

  return app;
}
