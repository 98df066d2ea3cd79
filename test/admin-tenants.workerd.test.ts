// End to end in workerd, tenants through the admin API: POST /admin/quota/update and PUT /admin/tenants/:id (tiers and
// overrides, applied at once), GET /admin/tenants/:id, POST /admin/tenants/:id/reset, and 400 for every bad input.
import { describe, expect, it } from "vitest";
import {
  quotaStatusResponseSchema,
  tenantResetResponseSchema,
  tenantUpdateResponseSchema,
  tenantViewResponseSchema,
  usageResponseSchema,
} from "../src/http/admin/schemas.ts";
import { ADMIN_TOKEN, adminInit, adminJson, BEARER, expectIssues, settle } from "./support/admin.ts";
import { asTenant, gateway, policyJson, traffic, useGatewayState, workerWith } from "./support/gateway.ts";

useGatewayState();

describe("tenants: POST /admin/quota/update, PUT/GET /admin/tenants/:id, POST /admin/tenants/:id/reset", () => {
  it("sets a tier (with X-Admin-Key and an empty Authorization), applied at once by the serving isolate", async () => {
    expect((await traffic("up-1", 1))[0]).toBe(200);
    const body = await adminJson(
      gateway,
      "/admin/quota/update",
      tenantUpdateResponseSchema,
      adminInit(
        "POST",
        { tenant_id: "up-1", tier: "enterprise" },
        { authorization: "", "x-admin-key": ADMIN_TOKEN },
      ),
    );
    expect(body).toEqual({
      success: true,
      tenant_id: "up-1",
      tier: "enterprise",
      overrides: null,
      version: 1,
      updated_at: "2026-11-23T12:00:30.000Z",
      failure: "open",
      concurrency: null,
      limits: [
        {
          name: "requests-minute",
          dimension: "requests",
          window: "minute",
          limit: 10_000,
          mode: "enforce",
          sync: "strict",
        },
        {
          name: "requests-day",
          dimension: "requests",
          window: "day",
          limit: 10_000_000,
          mode: "enforce",
          sync: "strict",
        },
        expect.objectContaining({ name: "tokens-minute", limit: 1_000_000 }),
        expect.objectContaining({ name: "tokens-day", limit: 100_000_000 }),
      ],
      propagation_seconds: 60,
    });
    const status = quotaStatusResponseSchema.parse(
      await (await gateway("/quota/status", asTenant("up-1"))).json(),
    );
    expect(status.tier).toBe("enterprise");
    const again = await adminJson(
      gateway,
      "/admin/tenants/up-1",
      tenantUpdateResponseSchema,
      adminInit("PUT", { tier: "pro" }),
    );
    expect(again.version).toBe(2);
    const view = await adminJson(gateway, "/admin/tenants/up-1", tenantViewResponseSchema);
    expect(view).toMatchObject({
      tier: "pro",
      source: "admin",
      version: 2,
      overrides: null,
      failure: "open",
    });
    expect(view.limits.map((l) => [l.name, l.limit, l.used])).toEqual([
      ["requests-minute", 1000, 1],
      ["requests-day", 100_000, 1],
      ["tokens-minute", 100_000, 0],
      ["tokens-day", 5_000_000, 0],
    ]);
  });

  it("stores overrides as given: a changed amount keeps the tier's mode; the new limit is enforced at once", async () => {
    const body = await adminJson(
      gateway,
      "/admin/quota/update",
      tenantUpdateResponseSchema,
      adminInit("POST", {
        tenant_id: "ov-1",
        tier: "free",
        overrides: {
          limits: [
            { window: "minute", limit: 3 },
            { window: "hour", limit: 50, mode: "shadow" },
          ],
          failure: "closed",
        },
      }),
    );
    expect(body.overrides).toEqual({
      limits: [
        { dimension: "requests", window: "minute", limit: 3 },
        { dimension: "requests", window: "hour", limit: 50, mode: "shadow" },
      ],
      failure: "closed",
    });
    expect(body.failure).toBe("closed");
    expect(body.limits.map((l) => `${l.name}:${l.limit}:${l.mode}`)).toEqual([
      "requests-minute:3:enforce",
      "requests-day:1000:enforce",
      "tokens-minute:10000:enforce",
      "tokens-day:100000:enforce",
      "requests-hour:50:shadow",
    ]);
    expect(await traffic("ov-1", 5)).toEqual([200, 200, 200, 429, 429]);
    const view = await adminJson(gateway, "/admin/tenants/ov-1", tenantViewResponseSchema);
    expect(view.overrides).toEqual(body.overrides);
  });

  it("sets a tenant's concurrency limit through its overrides and shows the one in effect", async () => {
    const put = await adminJson(
      gateway,
      "/admin/tenants/cc-1",
      tenantUpdateResponseSchema,
      adminInit("PUT", { tier: "free", overrides: { concurrency: 5 } }),
    );
    expect(put).toMatchObject({ overrides: { concurrency: 5 }, concurrency: 5 });
    const view = await adminJson(gateway, "/admin/tenants/cc-1", tenantViewResponseSchema);
    expect(view).toMatchObject({ tier: "free", concurrency: 5 });
    const none = await adminJson(gateway, "/admin/tenants/cc-2", tenantViewResponseSchema);
    expect(none.concurrency).toBeNull();
  });

  it("lifts a cached denial when the tier is raised", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({
        tiers: {
          free: { limits: [{ window: "day", limit: 2 }] },
          pro: { limits: [{ window: "day", limit: 100 }] },
        },
      }),
    });
    expect(await traffic("lift", 3, w.fetch)).toEqual([200, 200, 429]);
    await adminJson(
      w.fetch,
      "/admin/quota/update",
      tenantUpdateResponseSchema,
      adminInit("POST", { tenant_id: "lift", tier: "pro" }),
    );
    expect(await traffic("lift", 2, w.fetch)).toEqual([200, 200]);
  });

  it("answers 400 listing every issue of a bad update", async () => {
    await expectIssues(
      await gateway(
        "/admin/quota/update",
        adminInit("POST", {
          tier: "gold",
          overrides: { limits: [{ window: "fortnight", limit: -1 }], surprise: true },
          extra: "x",
        }),
      ),
      [
        "tenant_id",
        "tier",
        "overrides.limits.0.window",
        "overrides.limits.0.limit",
        "overrides.surprise",
        "extra",
      ],
    );
    // A new limit needs an amount (the tier has none to inherit).
    const [issue] = await expectIssues(
      await gateway(
        "/admin/quota/update",
        adminInit("POST", { tenant_id: "t", tier: "free", overrides: { limits: [{ window: "hour" }] } }),
      ),
      ["overrides.limits.0.limit"],
    );
    expect(issue!.message).toContain("inherit");
    await expectIssues(
      await gateway("/admin/tenants/t", adminInit("PUT", { tenant_id: "t", tier: "free" })),
      ["tenant_id"],
    );
    await expectIssues(
      await gateway("/admin/quota/update", adminInit("POST", { tenant_id: "x".repeat(129), tier: "free" })),
      ["tenant_id"],
    );
  });

  it("answers 400 to an invalid tenant id in the path", async () => {
    await expectIssues(await gateway("/admin/tenants/has%20space", { headers: BEARER }), ["id"]);
    await expectIssues(await gateway(`/admin/tenants/${"x".repeat(129)}/reset`, adminInit("POST")), ["id"]);
  });

  it("shows a tenant nobody configured: default tier, version 0", async () => {
    const view = await adminJson(gateway, "/admin/tenants/nobody", tenantViewResponseSchema);
    expect(view).toMatchObject({
      tenant_id: "nobody",
      tier: "free",
      source: "default",
      overrides: null,
      version: 0,
      updated_at: null,
      cached_in_isolate: false,
    });
    expect(view.limits).toEqual([
      expect.objectContaining({
        name: "requests-minute",
        limit: 100,
        used: 0,
        remaining: 100,
        reset_in_seconds: 30,
      }),
      expect.objectContaining({ name: "requests-day", limit: 1000, used: 0, remaining: 1000 }),
      expect.objectContaining({ name: "tokens-minute", limit: 10_000, used: 0, remaining: 10_000 }),
      expect.objectContaining({ name: "tokens-day", limit: 100_000, used: 0, remaining: 100_000 }),
    ]);
  });

  it("resets a tenant's usage: an exhausted minute is available again at once", async () => {
    const statuses = await traffic("rs-1", 101);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    const body = await adminJson(
      gateway,
      "/admin/tenants/rs-1/reset",
      tenantResetResponseSchema,
      adminInit("POST"),
    );
    expect(body).toEqual({
      success: true,
      tenant_id: "rs-1",
      tier: "free",
      reset: ["requests-minute", "requests-day", "tokens-minute", "tokens-day"],
    });
    const view = await adminJson(gateway, "/admin/tenants/rs-1", tenantViewResponseSchema);
    expect(view.limits.map((l) => l.used)).toEqual([0, 0, 0, 0]);
    expect(await traffic("rs-1", 3)).toEqual([200, 200, 200]);
    await settle();
    const usage = await adminJson(gateway, "/admin/quota/usage", usageResponseSchema);
    expect(usage.tenants).toEqual({ "rs-1": 3 });
  });
});
