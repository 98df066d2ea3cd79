// End to end in workerd, which plan an admin change puts in force: a record set through the admin API replaces the
// policy's static entry whole (its overrides included), the answer describes the plan that is enforced, and tenant ids
// named like Object.prototype members are ordinary tenants.
import { describe, expect, it } from "vitest";
import { tenantUpdateResponseSchema, tenantViewResponseSchema } from "../src/http/admin/schemas.ts";
import { adminInit, adminJson } from "./support/admin.ts";
import { asTenant, policyJson, traffic, useGatewayState, workerWith } from "./support/gateway.ts";

useGatewayState();

describe("admin tier change of a tenant the policy names", () => {
  it("drops the policy's static overrides: the answer, the view and the enforcement agree", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({
        tenants: { "t-static": { tier: "free", overrides: { limits: [{ window: "minute", limit: 3 }] } } },
      }),
    });
    expect(await traffic("t-static", 4, w.fetch)).toEqual([200, 200, 200, 429]);
    const put = await adminJson(
      w.fetch,
      "/admin/tenants/t-static",
      tenantUpdateResponseSchema,
      adminInit("PUT", { tier: "pro" }),
    );
    expect(put.overrides).toBeNull();
    expect(put.limits.find((l) => l.name === "requests-minute")!.limit).toBe(1_000);
    const view = await adminJson(w.fetch, "/admin/tenants/t-static", tenantViewResponseSchema);
    expect(view).toMatchObject({ tier: "pro", source: "admin", overrides: null });
    expect(view.limits.find((l) => l.name === "requests-minute")!.limit).toBe(1_000);
    // The 4th request of the minute (and more) is admitted under the new plan.
    expect(await traffic("t-static", 5, w.fetch)).toEqual(Array(5).fill(200));
  });
});

describe("tenant ids that name Object.prototype members", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "%s is an ordinary tenant",
    async (id) => {
      const w = workerWith({});
      const view = await adminJson(w.fetch, `/admin/tenants/${id}`, tenantViewResponseSchema);
      expect(view).toMatchObject({ tenant_id: id, tier: "free", source: "default", overrides: null });
      const res = await w.fetch("/v1/x", asTenant(id));
      expect(res.status).toBe(200);
    },
  );
});
