// End to end in workerd, identity hardening: the `ip:` tenant namespace is the IP mode's alone, an empty bearer token
// is refused (never downgraded to the IP), and JWT claims (issuer, audience, nbf, iat, exp) are checked after the
// signature without echoing the token or the expected values; a custom identity order is honoured.
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import {
  expectProblem,
  originEcho,
  policyJson,
  quotaStatus,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

const TENANT_INVALID = "urn:quotagate:problem:tenant-invalid";
const CLIENT_IP = { "CF-Connecting-IP": "203.0.113.7" };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Header, JWT and IP modes all on, in the default order (apiKey, jwt, header, ip). */
const allModes = () =>
  workerWith({
    QUOTA_POLICY: policyJson({
      identity: { jwt: { enabled: true }, header: { enabled: true }, ip: { enabled: true, tier: "free" } },
    }),
  });

describe("the ip: namespace", () => {
  it("refuses a tenant header naming an IP tenant (any case) with 400, leaving that address's quota alone", async () => {
    const w = allModes();
    for (const id of ["ip:203.0.113.7", "IP:203.0.113.7", "Ip:anything"]) {
      const problem = await expectProblem(await w.fetch("/v1/x", { headers: { "X-Tenant-ID": id } }), 400);
      expect(problem.type).toBe(TENANT_INVALID);
      expect(problem.detail).toMatch(/"ip:" prefix is reserved/);
    }
    const victim = await quotaStatus({ headers: CLIENT_IP }, w.fetch);
    expect(victim).toMatchObject({ tenant: "ip:203.0.113.7", identified_by: "ip" });
    expect(victim.limits.map((l) => l.used)).toEqual([0, 0]);
  });

  it("refuses a JWT whose tenant claim names an IP tenant", async () => {
    const token = await sign({ sub: "ip:203.0.113.7" }, env.JWT_SECRET);
    const problem = await expectProblem(await allModes().fetch("/v1/x", { headers: bearer(token) }), 400);
    expect(problem.type).toBe(TENANT_INVALID);
    expect(problem.detail).toContain('JWT claim "sub"');
  });

  it("still identifies anonymous traffic as ip:<address>", async () => {
    const echo = await originEcho(await allModes().fetch("/v1/x", { headers: CLIENT_IP }));
    expect(echo.headers["x-quotagate-tenant"]).toBe("ip:203.0.113.7");
  });

  it("refuses at startup a policy whose API key or static tenant is in the IP namespace, naming the field", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({
        identity: { apiKey: { enabled: true, keys: { ["0".repeat(64)]: { tenant: "ip:10.0.0.1" } } } },
      }),
    });
    const problem = await expectProblem(await w.fetch("/v1/x"), 500);
    expect(problem.errors?.map((e) => e.path)).toEqual([
      `QUOTA_POLICY.identity.apiKey.keys.${"0".repeat(64)}.tenant`,
    ]);
  });
});

describe("an empty bearer token", () => {
  it("is refused with 401, never downgraded to the next mode or the client IP", async () => {
    const w = allModes();
    for (const auth of ["Bearer", "Bearer ", "bearer    ", "BEARER\t"]) {
      const res = await w.fetch("/v1/x", {
        headers: { Authorization: auth, "X-Tenant-ID": "t-fallback", ...CLIENT_IP },
      });
      const problem = await expectProblem(res, 401);
      expect(problem.type).toBe("urn:quotagate:problem:unauthenticated");
      expect(problem.detail).toBe("empty bearer token in Authorization");
    }
    const status = await quotaStatus({ headers: CLIENT_IP }, w.fetch);
    expect(status.limits.map((l) => l.used)).toEqual([0, 0]);
  });

  it("is refused on /quota/status too", async () => {
    await expectProblem(
      await allModes().fetch("/quota/status", { headers: { Authorization: "Bearer", ...CLIENT_IP } }),
      401,
    );
  });
});
