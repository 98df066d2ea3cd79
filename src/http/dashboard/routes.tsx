/** @jsxImportSource hono/jsx */
// The dashboard under /admin/dashboard: the page itself (a shell with no data, served without the token so that a
// browser can open it) and GET /data, behind the admin token like every admin route, which the page fetches.
import { Hono } from "hono";
import { adminAuth } from "../admin/auth.ts";
import type { AppDeps } from "../app.ts";
import { problem, problemFromError } from "../problem.ts";
import { dashboardData } from "./data.ts";
import { DashboardPage } from "./page.tsx";

/** A fresh nonce per page: only the page's own inline style and script may run. */
function nonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

const csp = (n: string) =>
  [
    "default-src 'none'",
    `script-src 'nonce-${n}'`,
    `style-src 'nonce-${n}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

export function createDashboardRoutes(deps: AppDeps): Hono {
  const routes = new Hono();
  routes.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));

  routes.get("/", (c) => {
    const n = nonce();
    c.header("content-security-policy", csp(n));
    c.header("cache-control", "no-store");
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(`<!doctype html>${(<DashboardPage nonce={n} />).toString()}`);
  });

  routes.use("/data", adminAuth(deps.config.adminToken));
  routes.get("/data", async (c) => c.json(await dashboardData(deps)));

  routes.all("/", (c) =>
    problem("method_not_allowed", `${c.req.method} is not allowed here; use GET, HEAD`, {
      instance: new URL(c.req.url).pathname,
      headers: { allow: "GET, HEAD" },
    }),
  );
  routes.all("/data", (c) =>
    problem("method_not_allowed", `${c.req.method} is not allowed here; use GET, HEAD`, {
      instance: new URL(c.req.url).pathname,
      headers: { allow: "GET, HEAD" },
    }),
  );
  return routes;
}
