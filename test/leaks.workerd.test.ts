// End to end in workerd, what must not cross the gateway: the admin credential never reaches the origin (admin paths
// in any spelling are never proxied), and the origin's address never reaches a client.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asTenant, expectProblem, gateway, originEcho, useGatewayState } from "./support/gateway.ts";

useGatewayState();

const adminBearer = () => ({ Authorization: `Bearer ${env.ADMIN_TOKEN}` });

describe("the admin credential stays in the gateway", () => {
  it("never proxies an admin path, however it is spelled", async () => {
    for (const path of [
      "//admin/quota/stats",
      "/ADMIN/quota/stats",
      "/Admin/quota/stats",
      "/admin;x/quota/stats",
      "/admin//quota/stats",
      "/x/../admin/quota/stats",
      "/%61dmin/quota//stats",
      "/admin",
      "/admin/",
    ]) {
      const res = await gateway(path, { headers: { ...adminBearer(), "X-Tenant-ID": "t-admin-leak" } });
      expect(res.headers.get("x-origin"), path).toBeNull();
      expect([200, 404], path).toContain(res.status);
    }
  });

  it("serves the canonical admin path from the admin router", async () => {
    const res = await gateway("/admin/quota/stats", { headers: adminBearer() });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBeNull();
  });

  it("drops an Authorization bearing the admin token from a proxied request, in any spelling", async () => {
    for (const auth of [
      `Bearer ${env.ADMIN_TOKEN}`,
      `bearer ${env.ADMIN_TOKEN}`,
      `BEARER    ${env.ADMIN_TOKEN}  `,
    ]) {
      const echo = await originEcho(
        await gateway("/v1/things", asTenant("t-admin-bearer", { Authorization: auth, "X-Admin-Key": "x" })),
      );
      expect(echo.headers.authorization, auth).toBeUndefined();
      expect(echo.headers["x-admin-key"]).toBeUndefined();
    }
  });

  it("drops it from exempt routes too", async () => {
    const echo = await originEcho(await gateway("/health/deep", asTenant("t-exempt-admin", adminBearer())));
    expect(echo.headers.authorization).toBeUndefined();
  });

  it("passes any other Authorization on to the origin", async () => {
    for (const auth of [`Bearer ${env.ADMIN_TOKEN}x`, "Bearer tenant-token", "Basic dXNlcjpwYXNz"]) {
      const echo = await originEcho(
        await gateway("/v1/things", asTenant("t-other-auth", { Authorization: auth })),
      );
      expect(echo.headers.authorization).toBe(auth);
    }
  });

  it("answers a misspelled admin path with 404 problem+json", async () => {
    const problem = await expectProblem(
      await gateway("//admin/quota/stats", { headers: adminBearer() }),
      404,
    );
    expect(problem.detail).toMatch(/admin routes are served only at their exact paths/);
  });
});
