// The OpenAPI 3.1 document of the admin API, /quota/status and /health, generated from the zod schemas the routes
// validate with (z.toJSONSchema: JSON Schema 2020-12, the dialect of OpenAPI 3.1).
import * as z from "zod";
import {
  DENY_PATHS,
  type DenySchemas,
  denyBodySchema,
  denyDeleteResponseSchema,
  denyListResponseSchema,
  denyPutResponseSchema,
} from "./admin/deny-schemas.ts";
import type { AdminSchemas } from "./admin/schemas.ts";
import {
  adminHealthResponseSchema,
  clearResponseSchema,
  problemSchema,
  publicHealthResponseSchema,
  queueStatsSchema,
  quotaStatusResponseSchema,
  statsResponseSchema,
  tenantResetResponseSchema,
  tenantUpdateResponseSchema,
  tenantViewResponseSchema,
  usageQuerySchema,
  usageResponseSchema,
  warmResponseSchema,
} from "./admin/schemas.ts";
import { dashboardDataSchema } from "./dashboard/data-schema.ts";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

/** One parameter per member of an object schema; required when the member does not accept "absent". */
function parameters(schema: z.ZodObject, where: "query" | "path"): Json[] {
  return Object.entries(schema.shape).map(([name, member]) => {
    const m = member as z.ZodType;
    const s = jsonSchema(m, "input");
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === "path" || !m.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({
  "application/json": { schema: jsonSchema(schema, io) },
});

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: jsonSchema(problemSchema, "output") } },
});

const ADMIN_ERRORS = {
  "401": problemResponse(
    "Missing or invalid admin token, or ADMIN_TOKEN unset (the admin API is then closed).",
  ),
};
const INPUT_ERRORS = { "400": problemResponse("Invalid input: `errors` lists every issue with its path.") };
const STORE_ERRORS = { "503": problemResponse("The quota store could not be reached.") };

interface Op {
  summary: string;
  description?: string;
  query?: z.ZodObject;
  path?: z.ZodObject;
  body?: z.ZodType;
  ok: { description: string; schema?: z.ZodType; text?: string; status?: string };
  errors?: Json;
  security?: Json[];
}

function operation(tag: string, op: Op): Json {
  const params = [
    ...(op.path ? parameters(op.path, "path") : []),
    ...(op.query ? parameters(op.query, "query") : []),
  ];
  const okContent = op.ok.schema
    ? json(op.ok.schema)
    : op.ok.text
      ? { [op.ok.text]: { schema: { type: "string" } } }
      : undefined;
  return {
    tags: [tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(op.body ? { requestBody: { required: true, content: json(op.body, "input") } } : {}),
    responses: {
      [op.ok.status ?? "200"]: {
        description: op.ok.description,
        ...(okContent ? { content: okContent } : {}),
      },
      ...(tag === "admin" ? ADMIN_ERRORS : {}),
      ...op.errors,
    },
    ...(op.security ? { security: op.security } : {}),
  };
}

/** The deny-list paths: the listing, and PUT/DELETE of each kind of entry. */
function denyPaths(d: DenySchemas): Json {
  const admin = (op: Op) => operation("admin", op);
  const out: Json = {
    "/admin/deny": {
      get: admin({
        summary: "Every deny-list entry (tenants, API key hashes, IP ranges), as the store holds it now.",
        ok: { description: "The deny list.", schema: denyListResponseSchema },
        errors: STORE_ERRORS,
      }),
    },
  };
  for (const kind of ["tenant", "key", "ip"] as const) {
    const { segment, param } = DENY_PATHS[kind];
    out[`/admin/deny/${segment}/{${param}}`] = {
      put: admin({
        summary: `Refuses requests of this ${kind === "ip" ? "client IP range" : kind === "key" ? "API key" : "tenant"} with 403 (adds or replaces the entry).`,
        description:
          "The serving isolate applies it at once; other isolates within QUOTA_CACHE_TTL seconds. The body is optional.",
        path: d[kind],
        body: denyBodySchema,
        ok: { description: "The entry as stored.", schema: denyPutResponseSchema },
        errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
      }),
      delete: admin({
        summary: "Removes the entry (idempotent).",
        path: d[kind],
        ok: { description: "Removed, or there was none.", schema: denyDeleteResponseSchema },
        errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
      }),
    };
  }
  return out;
}

export function buildOpenApi(s: AdminSchemas, d: DenySchemas): Json {
  const admin = (op: Op) => operation("admin", op);
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "quotagate admin API",
      version: "1",
      description:
        "Admin routes of the quotagate edge quota gateway (every one needs the admin token), the tenant's own " +
        "/quota/status and the public /health. Every error is application/problem+json (RFC 9457).",
    },
    security: [{ bearerAuth: [] }, { adminKey: [] }],
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "Authorization: Bearer <ADMIN_TOKEN>" },
        adminKey: {
          type: "apiKey",
          in: "header",
          name: "X-Admin-Key",
          description: "X-Admin-Key: <ADMIN_TOKEN>",
        },
      },
    },
    paths: {
      "/health": {
        get: operation("public", {
          summary: "Liveness (public, exempt from quotas).",
          ok: { description: "The gateway is up.", schema: publicHealthResponseSchema },
          security: [],
        }),
      },
      "/quota/status": {
        get: operation("public", {
          summary: "The calling tenant's limits, usage and resets.",
          description:
            "The tenant is identified as for proxied traffic (API key, JWT, trusted header or client IP, per the policy).",
          ok: { description: "The tenant's limits.", schema: quotaStatusResponseSchema },
          errors: {
            "400": problemResponse("Invalid tenant id."),
            "401": problemResponse("No tenant identified, or an invalid credential."),
            ...STORE_ERRORS,
          },
          security: [],
        }),
      },
      "/queue/stats": {
        get: operation("public", {
          summary: "The serving isolate's waiting queue and concurrency slots.",
          description:
            "Public; with the admin token (Authorization: Bearer or X-Admin-Key) the body adds depth_by_tenant. " +
            "A credential that is not the admin token gets the public view.",
          ok: { description: "Queue figures.", schema: queueStatsSchema },
          security: [{}, { bearerAuth: [] }, { adminKey: [] }],
        }),
      },
      "/admin/quota/stats": {
        get: admin({
          summary:
            "Cache and store statistics of the serving isolate, today's fleet totals, and its waiting queue.",
          ok: { description: "Statistics.", schema: statsResponseSchema },
        }),
      },
      "/admin/quota/usage": {
        get: admin({
          summary: "One UTC day's usage of a dimension's day limit, per tenant, paged.",
          description:
            "EXCEEDED once a tenant's units reach its day limit: the limit of its plan when the serving isolate has " +
            "the plan cached, else the default tier's. Pages come from HSCAN over the day's shards.",
          query: usageQuerySchema,
          ok: { description: "A page of tenants.", schema: usageResponseSchema },
          errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
        }),
      },
      "/admin/quota/cache/warm": {
        post: admin({
          summary: "Caches a tier's plan for tenants in the serving isolate (for QUOTA_CACHE_TTL).",
          body: s.warmBody,
          ok: { description: "Plans cached.", schema: warmResponseSchema },
          errors: INPUT_ERRORS,
        }),
      },
      "/admin/quota/cache/clear": {
        post: admin({
          summary: "Returns the serving isolate's leases, flushes its counters and empties its cache.",
          ok: { description: "Cache cleared.", schema: clearResponseSchema },
        }),
      },
      "/admin/quota/health": {
        get: admin({
          summary: "Store connection, cache hit rate, usage hash size and waiting queue, with a verdict.",
          ok: { description: "healthy or degraded.", schema: adminHealthResponseSchema },
          errors: {
            "503": {
              description: "unhealthy (the store is unreachable): the same body as 200.",
              content: json(adminHealthResponseSchema),
            },
          },
        }),
      },
      "/admin/quota/update": {
        post: admin({
          summary: "Sets a tenant's tier and overrides (same as PUT /admin/tenants/:id).",
          description:
            "The serving isolate applies it at once; other isolates within QUOTA_CACHE_TTL seconds.",
          body: s.updateBody,
          ok: {
            description: "The stored record and the resulting limits.",
            schema: tenantUpdateResponseSchema,
          },
          errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
        }),
      },
      "/admin/tenants/{id}": {
        get: admin({
          summary: "A tenant's tier, overrides, record version and live usage per limit.",
          path: s.tenantParams,
          ok: { description: "The tenant.", schema: tenantViewResponseSchema },
          errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
        }),
        put: admin({
          summary: "Sets a tenant's tier and overrides (same as POST /admin/quota/update).",
          path: s.tenantParams,
          body: s.tenantBody,
          ok: {
            description: "The stored record and the resulting limits.",
            schema: tenantUpdateResponseSchema,
          },
          errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
        }),
      },
      "/admin/tenants/{id}/reset": {
        post: admin({
          summary: "Zeroes the tenant's usage in the current period of each of its limits.",
          path: s.tenantParams,
          ok: { description: "Usage reset.", schema: tenantResetResponseSchema },
          errors: { ...INPUT_ERRORS, ...STORE_ERRORS },
        }),
      },
      "/admin/metrics": {
        get: admin({
          summary: "Prometheus text exposition (format 0.0.4) of the serving isolate's metrics.",
          ok: { description: "Metrics.", text: "text/plain; version=0.0.4" },
        }),
      },
      "/admin/openapi.json": {
        get: admin({
          summary: "This document.",
          ok: { description: "OpenAPI 3.1.", text: "application/json" },
        }),
      },
      ...denyPaths(d),
      "/admin/dashboard/data": {
        get: admin({
          summary: "What the dashboard (GET /admin/dashboard, a page served without the token) draws.",
          description:
            "The serving isolate's decisions per minute, top tenants, cache, store latency and leases, with the cost " +
            "estimates and the isolate's copy of the deny list.",
          ok: { description: "Dashboard figures.", schema: dashboardDataSchema },
        }),
      },
    },
  };
}
