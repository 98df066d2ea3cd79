// End to end in workerd, identity hardening: the `ip:` tenant namespace is the IP mode's alone, an empty bearer token
// is refused (never downgraded to the IP), and JWT claims (issuer, audience, nbf, iat, exp) are checked after the
// signature without echoing the token or the expected values; a custom identity order is honoured.
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import type { Policy } from "../src/policy/policy-schema.ts";
import {
  expectProblem,
  FROZEN_AT_MS,
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
    expect(victim.limits.map((l) => l.used)).toEqual(victim.limits.map(() => 0));
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
    expect(status.limits.map((l) => l.used)).toEqual(status.limits.map(() => 0));
  });

  it("is refused on /quota/status too", async () => {
    await expectProblem(
      await allModes().fetch("/quota/status", { headers: { Authorization: "Bearer", ...CLIENT_IP } }),
      401,
    );
  });
});

describe("JWT claims", () => {
  const NOW = Math.floor(FROZEN_AT_MS / 1000);
  const ISSUER = "https://auth.internal.example";
  const AUDIENCE = "quotagate-api";
  const jwtWorker = (jwt: Record<string, unknown> = {}) =>
    workerWith({
      QUOTA_POLICY: policyJson({
        identity: { jwt: { enabled: true, issuer: ISSUER, audience: AUDIENCE, ...jwt } },
      }),
    });
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: "acme-claims",
    iss: ISSUER,
    aud: AUDIENCE,
    ...extra,
  });

  /** 401, saying why, quoting neither the token nor what the gateway expects. */
  async function refused(w: ReturnType<typeof jwtWorker>, token: string, why: RegExp): Promise<void> {
    const problem = await expectProblem(await w.fetch("/v1/x", { headers: bearer(token) }), 401);
    expect(problem.type).toBe("urn:quotagate:problem:unauthenticated");
    expect(problem.detail).toMatch(why);
    const text = JSON.stringify(problem);
    for (const secret of [token, token.split(".")[1]!, ISSUER, AUDIENCE]) expect(text).not.toContain(secret);
  }

  it("accepts a token from the configured issuer for the configured audience (string or list)", async () => {
    const w = jwtWorker();
    for (const aud of [AUDIENCE, ["other", AUDIENCE]]) {
      const token = await sign(claims({ aud, iat: NOW - 60, nbf: NOW - 60, exp: NOW + 60 }), env.JWT_SECRET);
      const echo = await originEcho(await w.fetch("/v1/x", { headers: bearer(token) }));
      expect(echo.headers["x-quotagate-tenant"]).toBe("acme-claims");
    }
  });

  it("refuses another issuer, or none", async () => {
    const w = jwtWorker();
    await refused(w, await sign(claims({ iss: "https://evil.example" }), env.JWT_SECRET), /issuer/);
    await refused(w, await sign(claims({ iss: undefined }), env.JWT_SECRET), /issuer/);
  });

  it("refuses another audience, or none", async () => {
    const w = jwtWorker();
    await refused(w, await sign(claims({ aud: "other-api" }), env.JWT_SECRET), /audience/);
    await refused(w, await sign(claims({ aud: ["a", "b"] }), env.JWT_SECRET), /audience/);
    await refused(w, await sign(claims({ aud: undefined }), env.JWT_SECRET), /audience/);
  });

  it("refuses a token not valid yet (nbf), issued in the future (iat), or expired (exp)", async () => {
    const w = jwtWorker();
    await refused(w, await sign(claims({ nbf: NOW + 30 }), env.JWT_SECRET), /not valid before/);
    await refused(w, await sign(claims({ iat: NOW + 30 }), env.JWT_SECRET), /issued in the future/);
    await refused(w, await sign(claims({ exp: NOW }), env.JWT_SECRET), /expired/);
    await refused(w, await sign(claims({ nbf: "soon" }), env.JWT_SECRET), /"nbf"/);
  });

  it("allows the configured clock tolerance, and no more", async () => {
    const w = jwtWorker({ clockToleranceSec: 30 });
    for (const extra of [{ iat: NOW + 30 }, { nbf: NOW + 30 }, { exp: NOW - 29 }]) {
      await originEcho(
        await w.fetch("/v1/x", { headers: bearer(await sign(claims(extra), env.JWT_SECRET)) }),
      );
    }
    await refused(w, await sign(claims({ iat: NOW + 31 }), env.JWT_SECRET), /issued in the future/);
    await refused(w, await sign(claims({ exp: NOW - 30 }), env.JWT_SECRET), /expired/);
  });

  it("checks the signature before any claim: a forged token learns nothing about the expected claims", async () => {
    const w = jwtWorker();
    const forged = await sign(
      claims({ iss: "https://guess.example", exp: NOW - 100 }),
      "not-the-secret-0123456789",
    );
    await refused(w, forged, /signature/);
  });
});

describe("a custom identity order", () => {
  type Order = Policy["identity"]["order"];
  const ordered = (order: Order) =>
    workerWith({
      QUOTA_POLICY: policyJson({
        identity: {
          order,
          jwt: { enabled: true },
          header: { enabled: true },
          ip: { enabled: true, tier: "free" },
        },
      }),
    });

  it("lets the first mode listed decide when several credentials are present", async () => {
    const token = await sign({ sub: "from-jwt" }, env.JWT_SECRET);
    const headers = { ...bearer(token), "X-Tenant-ID": "from-header", ...CLIENT_IP };
    const cases: Array<[Order, string, string]> = [
      [["header", "jwt", "ip"], "from-header", "header"],
      [["jwt", "header", "ip"], "from-jwt", "jwt"],
      [["ip", "jwt", "header"], "ip:203.0.113.7", "ip"],
    ];
    for (const [order, tenant, via] of cases) {
      const status = await quotaStatus({ headers }, ordered(order).fetch);
      expect(status, order.join(",")).toMatchObject({ tenant, identified_by: via });
    }
  });

  it("never consults a mode left out of the order, even when enabled", async () => {
    const problem = await expectProblem(
      await ordered(["jwt"]).fetch("/v1/x", { headers: { "X-Tenant-ID": "from-header", ...CLIENT_IP } }),
      401,
    );
    expect(problem.type).toBe("urn:quotagate:problem:tenant-missing");
  });

  it("still refuses a bad credential of a later mode only when no earlier one is present", async () => {
    const w = ordered(["header", "jwt"]);
    await originEcho(await w.fetch("/v1/x", { headers: { "X-Tenant-ID": "t-first", ...bearer("garbage") } }));
    await expectProblem(await w.fetch("/v1/x", { headers: bearer("garbage") }), 401);
  });
});
