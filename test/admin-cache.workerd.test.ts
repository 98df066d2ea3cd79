// End to end in workerd, the isolate cache through the admin API: POST /admin/quota/cache/warm (plans of a tier, then
// used without a lookup; 400 for every bad body, malformed JSON and an empty body) and POST /admin/quota/cache/clear.
import { describe, expect, it } from "vitest";
import {
  clearResponseSchema,
  statsResponseSchema,
  tenantViewResponseSchema,
  usageResponseSchema,
  warmResponseSchema,
} from "../src/http/admin/schemas.ts";
import { adminInit, adminJson, expectIssues } from "./support/admin.ts";
import { asTenant, expectProblem, gateway, originEcho, traffic, useGatewayState } from "./support/gateway.ts";

useGatewayState();

describe("POST /admin/quota/cache/warm and /admin/quota/cache/clear", () => {
  it("warms plans of a tier into the isolate cache; the next requests use them without a plan lookup", async () => {
    const body = await adminJson(
      gateway,
      "/admin/quota/cache/warm",
      warmResponseSchema,
      adminInit("POST", { tenant_ids: ["w-1", "w-2", "w-1", "w-3"], plan_type: "pro" }),
    );
    expect(body).toEqual({ success: true, warmed: 3, plan_type: "pro", ttl_seconds: 60, cache_size: 3 });
    const res = await gateway("/v1/x", asTenant("w-2"));
    await originEcho(res);
    expect(res.headers.get("X-RateLimit-Limit")).toBe("1000");
    const { stats } = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(stats.plan_cache_hits).toBe(1);
    expect(stats.plan_cache_misses).toBe(0);
    const view = await adminJson(gateway, "/admin/tenants/w-3", tenantViewResponseSchema);
    expect(view.cached_in_isolate).toBe(true);
  });

  it("answers 400 listing every issue of a bad warm body", async () => {
    const errors = await expectIssues(
      await gateway(
        "/admin/quota/cache/warm",
        adminInit("POST", { tenant_ids: ["ok", "has space", ""], plan_type: "gold", extra: 1 }),
      ),
      ["tenant_ids.1", "tenant_ids.2", "plan_type", "extra"],
    );
    expect(errors.find((e) => e.path === "plan_type")!.message).toContain("free");
    await expectIssues(await gateway("/admin/quota/cache/warm", adminInit("POST", { tenant_ids: [] })), [
      "tenant_ids",
      "plan_type",
    ]);
    await expectIssues(
      await gateway(
        "/admin/quota/cache/warm",
        adminInit("POST", { tenant_ids: Array(1001).fill("t"), plan_type: "free" }),
      ),
      ["tenant_ids"],
    );
    await expectIssues(await gateway("/admin/quota/cache/warm", adminInit("POST", [1, 2])), [""]);
  });

  it("answers 400 to malformed JSON and to an empty body", async () => {
    const p = await expectProblem(
      await gateway("/admin/quota/cache/warm", adminInit("POST", "{not json")),
      400,
    );
    expect(p.detail).toContain("malformed JSON");
    expect(p.errors).toHaveLength(1);
    const e = await expectProblem(await gateway("/admin/quota/update", adminInit("POST", "")), 400);
    expect(e.detail).toContain("empty");
  });

  it("clears the isolate cache after returning its leases: stored usage is then exact", async () => {
    await traffic("clr", 4);
    const before = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(before.stats.cache_size).toBeGreaterThan(0);
    const body = await adminJson(gateway, "/admin/quota/cache/clear", clearResponseSchema, adminInit("POST"));
    expect(body.success).toBe(true);
    expect(body.cleared_entries).toBe(before.stats.cache_size);
    const after = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(after.stats.cache_size).toBe(0);
    const usage = await adminJson(gateway, "/admin/quota/usage", usageResponseSchema);
    expect(usage.tenants).toEqual({ clr: 4 });
  });
});
