// End to end in workerd, what the admin API describes: GET /admin/metrics (Prometheus text exposition) and
// GET /admin/openapi.json (every route documented from the validating schemas, and only routes that exist).
import { describe, expect, it } from "vitest";
import {
  publicHealthResponseSchema,
  quotaStatusResponseSchema,
  statsResponseSchema,
} from "../src/http/admin/schemas.ts";
import { ADMIN_ROUTES, adminJson, BEARER, pathTemplate } from "./support/admin.ts";
import { asTenant, gateway, traffic, useGatewayState } from "./support/gateway.ts";

useGatewayState();

describe("GET /admin/metrics", () => {
  it("serves the Prometheus text exposition with the cache entries gauge", async () => {
    await traffic("m-1", 3);
    const res = await gateway("/admin/metrics", { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const { stats } = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(text).toContain("# TYPE quotagate_cache_entries gauge");
    expect(text).toMatch(new RegExp(`^quotagate_cache_entries ${stats.cache_size}$`, "m"));
    expect(text).toContain("# TYPE quotagate_decisions_total counter");
    expect(text).toMatch(/^quotagate_decisions_total\{outcome="allowed",reason="ok"\} 3$/m);
    expect(text).toMatch(/^quotagate_store_latency_seconds_bucket\{op="acquire",le="\+Inf"\} \d+$/m);
    for (const line of text.trimEnd().split("\n"))
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$/);
    expect(text).not.toContain("m-1"); // labels never name a tenant
  });
});

describe("GET /admin/openapi.json", () => {
  interface OpenApiDoc {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<Record<string, unknown>>;
          requestBody?: unknown;
          responses: Record<string, unknown>;
        }
      >
    >;
  }

  const fetchDoc = async () => {
    const res = await gateway("/admin/openapi.json", { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    return (await res.json()) as OpenApiDoc;
  };

  it("documents every admin route, /quota/status, /queue/stats and /health from the validating schemas", async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/health",
        "/quota/status",
        "/queue/stats",
        ...new Set(ADMIN_ROUTES.map(([, p]) => pathTemplate(p))),
      ].sort(),
    );
    const usage = doc.paths["/admin/quota/usage"]!.get!;
    expect(usage.parameters).toContainEqual(
      expect.objectContaining({
        name: "limit",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
      }),
    );
    const warm = doc.paths["/admin/quota/cache/warm"]!.post!;
    expect(JSON.stringify(warm.requestBody)).toContain('"enum":["free","pro","enterprise"]');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        if (path.startsWith("/admin")) expect(op.responses).toHaveProperty("401");
        expect(Object.keys(op.responses)).toContain(path === "/admin/quota/health" ? "503" : "200");
      }
    }
  });

  it("names only routes that exist: each documented operation answers (not 404) with the token", async () => {
    const doc = await fetchDoc();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const res = await gateway(path.replace("{id}", "t1"), {
          method: method.toUpperCase(),
          headers: { ...BEARER, ...asTenant("doc").headers },
          ...(method === "get" ? {} : { body: "{}" }),
        });
        await res.arrayBuffer();
        expect([200, 400], `${method} ${path}`).toContain(res.status);
      }
    }
  });

  it("describes what /health and /quota/status answer", async () => {
    publicHealthResponseSchema.parse(await (await gateway("/health")).json());
    const status = quotaStatusResponseSchema.parse(
      await (await gateway("/quota/status", asTenant("doc"))).json(),
    );
    expect(status.tenant).toBe("doc");
  });
});
