// End to end in workerd, what must not cross the gateway: the admin credential never reaches the origin (admin paths
// in any spelling are never proxied), and the origin's address never reaches a client.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import {
  asTenant,
  expectProblem,
  GATEWAY,
  gateway,
  originEcho,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

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

describe("the origin's address stays behind the gateway", () => {
  const originHost = () => new URL(env.ORIGIN_URL).host;

  it("rewrites an absolute Location and Content-Location naming the origin to the gateway's host", async () => {
    const res = await gateway("/redirect-to?to=/internal/next%3Fa%3D1", {
      ...asTenant("t-location"),
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("location")).toBe(`${GATEWAY}/internal/next?a=1`);
    expect(res.headers.get("content-location")).toBe(`${GATEWAY}/internal/next?a=1`);
  });

  it("removes the origin's path prefix from a Location under it", async () => {
    const w = workerWith({ ORIGIN_URL: `${env.ORIGIN_URL}/base/` });
    const res = await w.fetch("/redirect-to?to=/base/v1/next", {
      ...asTenant("t-prefix"),
      redirect: "manual",
    });
    expect(res.headers.get("location")).toBe(`${GATEWAY}/v1/next`);
  });

  it("leaves a relative Location as it is", async () => {
    const res = await gateway("/redirect", { ...asTenant("t-relative"), redirect: "manual" });
    expect(res.headers.get("location")).toBe("/elsewhere");
  });

  it("keeps the origin's address out of a 502 and logs it instead", async () => {
    const closed = `127.0.0.1:${inject("closedPort")}`;
    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...args) => {
      logged.push(args.map(String).join(" "));
    });
    try {
      const w = workerWith({ ORIGIN_URL: `http://${closed}` });
      const unreachable = await expectProblem(await w.fetch("/v1/things", asTenant("t-502")), 502);
      expect(JSON.stringify(unreachable)).not.toContain(closed);
      const odd = await expectProblem(await gateway("/status/600", asTenant("t-502-status")), 502);
      expect(JSON.stringify(odd)).not.toContain(originHost());
      expect(odd.detail).toContain("status 600");
    } finally {
      spy.mockRestore();
    }
    expect(logged.some((l) => l.includes(closed))).toBe(true);
    expect(logged.some((l) => l.includes(originHost()))).toBe(true);
  });
});
