// The admin API under /admin (quota stats, usage, cache, health, tenant update and reset, metrics, OpenAPI): every
// route behind the admin token; inputs checked by the zod schemas that /admin/openapi.json is generated from; the
// work itself is the admin service's.
import { Hono } from "hono";
import { setCostGauges } from "../../metrics/upstash-cost.ts";
import type { AppDeps } from "../app.ts";
import { buildOpenApi } from "../openapi.ts";
import { problem, problemFromError } from "../problem.ts";
import { adminAuth } from "./auth.ts";
import { createDenySchemas } from "./deny-schemas.ts";
import { registerQuotaRoutes } from "./quota-routes.ts";
import { createAdminSchemas } from "./schemas.ts";
import { registerTenantRoutes } from "./tenant-routes.ts";

/** Routes and their methods, for 405 answers with Allow (HEAD is served by GET). */
const ROUTES: Array<[path: string, methods: string[]]> = [
  ["/quota/stats", ["GET"]],
  ["/quota/usage", ["GET"]],
  ["/quota/cache/warm", ["POST"]],
  ["/quota/cache/clear", ["POST"]],
  ["/quota/health", ["GET"]],
  ["/quota/update", ["POST"]],
  ["/tenants/:id", ["GET", "PUT"]],
  ["/tenants/:id/reset", ["POST"]],
  ["/metrics", ["GET"]],
  ["/openapi.json", ["GET"]],
];

export function createAdminRoutes(deps: AppDeps): Hono {
  const { config, admin: service, metrics } = deps;
  const schemas = createAdminSchemas(config.policy);
  let openapi: string | undefined;
  const admin = new Hono();

  admin.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  admin.use("*", adminAuth(config.adminToken));

  registerQuotaRoutes(admin, deps, schemas);
  registerTenantRoutes(admin, deps, schemas);

  admin.get("/metrics", () => {
    metrics.set("quotagate_cache_entries", service.isolate().books);
    setCostGauges(metrics, config.pricePer100kCommands);
    return new Response(metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
    });
  });

  admin.get("/openapi.json", () => {
    openapi ??= JSON.stringify(buildOpenApi(schemas, createDenySchemas(config.policy)));
    return new Response(openapi, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  });

  for (const [path, methods] of ROUTES) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
    admin.all(path, (c) =>
      problem("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`, {
        instance: new URL(c.req.url).pathname,
        headers: { allow },
      }),
    );
  }
  admin.all("*", (c) =>
    problem("not_found", "no such admin route; see GET /admin/openapi.json", {
      instance: new URL(c.req.url).pathname,
    }),
  );

  return admin;
}
