// The deny-list routes under /admin/deny: list every entry; PUT and DELETE a tenant, an API key (by its SHA-256) or
// a client IP range. Behind the admin token; values validated and normalised by the deny schemas.
import { Hono } from "hono";
import type { z } from "zod";
import type { DenyEntry, DenyKind } from "../../core/deny.ts";
import type { AppDeps } from "../app.ts";
import { problem, problemFromError } from "../problem.ts";
import { adminAuth } from "./auth.ts";
import {
  createDenySchemas,
  DENY_PATHS,
  denyBodySchema,
  type denyDeleteResponseSchema,
  type denyListResponseSchema,
  type denyPutResponseSchema,
} from "./deny-schemas.ts";
import { parseWith, readJson } from "./validate.ts";

type Out<S extends z.ZodType> = z.output<S>;

const view = (e: DenyEntry) => ({
  value: e.value,
  reason: e.reason ?? null,
  created_at: new Date(e.createdAtMs).toISOString(),
});

/** A body is optional here: none (or only whitespace) is `{}`. */
async function optionalBody(req: Request): Promise<unknown> {
  if (req.headers.get("content-length") === "0") return {};
  const clone = req.clone();
  return (await clone.text()).trim() === "" ? {} : readJson(req);
}

export function createDenyRoutes(deps: AppDeps): Hono {
  const { config, deny } = deps;
  const schemas = createDenySchemas(config.policy);
  const ttlSeconds = Math.round(deny.cacheTtlMs / 1000);
  const routes = new Hono();

  routes.onError((err, c) => problemFromError(err, new URL(c.req.url).pathname));
  routes.use("*", adminAuth(config.adminToken));

  routes.get("/", async (c) => {
    const entries = (await deny.list()).sort((a, b) => a.value.localeCompare(b.value));
    const of = (kind: DenyKind) => entries.filter((e) => e.kind === kind).map(view);
    const body: Out<typeof denyListResponseSchema> = {
      success: true,
      tenants: of("tenant"),
      keys: of("key"),
      ips: of("ip"),
      total: entries.length,
      propagation_seconds: ttlSeconds,
    };
    return c.json(body);
  });

  for (const kind of ["tenant", "key", "ip"] as const) {
    const { segment, param } = DENY_PATHS[kind];
    // `{.+}`: a range's slash may come URL-encoded (%2F) or as is.
    const path = `/${segment}/:${param}{.+}`;
    const normalValue = (raw: string | undefined) =>
      parseWith(schemas[kind], { [param]: raw ?? "" }, "path parameter")[param] as string;

    routes.put(path, async (c) => {
      const value = normalValue(c.req.param(param));
      const { reason } = parseWith(denyBodySchema, await optionalBody(c.req.raw), "body");
      const entry = await deny.add(kind, value, reason);
      const body: Out<typeof denyPutResponseSchema> = {
        success: true,
        kind,
        ...view(entry),
        propagation_seconds: ttlSeconds,
      };
      return c.json(body);
    });

    routes.delete(path, async (c) => {
      const value = normalValue(c.req.param(param));
      const body: Out<typeof denyDeleteResponseSchema> = {
        success: true,
        kind,
        value,
        removed: await deny.remove(kind, value),
        propagation_seconds: ttlSeconds,
      };
      return c.json(body);
    });

    routes.all(path, (c) =>
      problem("method_not_allowed", `${c.req.method} is not allowed here; use PUT, DELETE`, {
        instance: new URL(c.req.url).pathname,
        headers: { allow: "PUT, DELETE" },
      }),
    );
  }

  routes.all("/", (c) =>
    problem("method_not_allowed", `${c.req.method} is not allowed here; use GET, HEAD`, {
      instance: new URL(c.req.url).pathname,
      headers: { allow: "GET, HEAD" },
    }),
  );
  routes.all("*", (c) =>
    problem("not_found", "no such deny-list route: use /admin/deny/{tenants,keys,ips}/<value>", {
      instance: new URL(c.req.url).pathname,
    }),
  );
  return routes;
}
