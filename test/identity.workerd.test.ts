// End to end in workerd, identity aspect: every identification mode (trusted header, API key, JWT, client IP), their
// precedence, and bad input answered with a 4xx problem+json that says what is wrong (never a 5xx).
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import {
  asTenant,
  expectProblem,
  FREE_POLICY_HEADER,
  FROZEN_AT_MS,
  gateway,
  originEcho,
  policyJson,
  quotaStatus,
  sha256Hex,
  type TestWorker,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

const PRO_POLICY_HEADER = '"requests-minute";q=1000;w=60, "requests-day";q=100000;w=86400';
const ENTERPRISE_POLICY_HEADER = '"requests-minute";q=10000;w=60, "requests-day";q=10000000;w=86400';
const TENANT_MISSING = "urn:quotagate:problem:tenant-missing";
const TENANT_INVALID = "urn:quotagate:problem:tenant-invalid";
const UNAUTHENTICATED = "urn:quotagate:problem:unauthenticated";

const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("trusted header (the default policy)", () => {
  it("identifies the tenant from X-Tenant-ID and announces it to the origin", async () => {
    const res = await gateway("/v1/me", asTenant("acme-header"));
    expect(res.headers.get("RateLimit-Policy")).toBe(FREE_POLICY_HEADER);
    const echo = await originEcho(res);
    expect(echo.headers["x-quotagate-tenant"]).toBe("acme-header");
    const status = await quotaStatus(asTenant("acme-header"));
    expect(status).toMatchObject({ tenant: "acme-header", tier: "free", identified_by: "header" });
    expect(status.limits.map((l) => l.used)).toEqual([1, 1, 0, 0]);
  });

  it("accepts an id of exactly the maximum length (128)", async () => {
    const id = "t".repeat(128);
    await originEcho(await gateway("/v1/me", asTenant(id)));
  });
});

describe("API key", () => {
  const KEY_PRO = "qg_live_7f3c9a1e5b2d4c6e8a0b";
  const KEY_PLAIN = "qg_live_plain_0011223344";
  let w: TestWorker;

  beforeAll(async () => {
    const policy = policyJson({
      identity: {
        apiKey: {
          enabled: true,
          keys: {
            [await sha256Hex(KEY_PRO)]: { tenant: "acme-api", tier: "pro" },
            [await sha256Hex(KEY_PLAIN)]: { tenant: "plain-api" },
          },
        },
        header: { enabled: true },
      },
    });
    w = workerWith({ QUOTA_POLICY: policy });
  });

  it("identifies the tenant and tier from the SHA-256 of the key the policy holds", async () => {
    const res = await w.fetch("/v1/me", { headers: { "X-API-Key": KEY_PRO } });
    expect(res.headers.get("RateLimit-Policy")).toBe(PRO_POLICY_HEADER);
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("999");
    const echo = await originEcho(res);
    expect(echo.headers["x-quotagate-tenant"]).toBe("acme-api");
    const status = await quotaStatus({ headers: { "X-API-Key": KEY_PRO } }, w.fetch);
    expect(status).toMatchObject({ tenant: "acme-api", tier: "pro", identified_by: "apiKey" });
  });

  it("puts a key without a tier in the default tier", async () => {
    const status = await quotaStatus({ headers: { "X-API-Key": KEY_PLAIN } }, w.fetch);
    expect(status).toMatchObject({ tenant: "plain-api", tier: "free", identified_by: "apiKey" });
  });

  it("takes precedence over a trusted header sent alongside", async () => {
    const res = await w.fetch("/v1/me", asTenant("spoofed", { "X-API-Key": KEY_PRO }));
    expect((await originEcho(res)).headers["x-quotagate-tenant"]).toBe("acme-api");
  });

  it("refuses an unknown key with 401, even when a tenant header would identify the caller", async () => {
    for (const init of [
      { headers: { "X-API-Key": "qg_live_wrong" } },
      asTenant("fallback", { "X-API-Key": "nope" }),
    ]) {
      const problem = await expectProblem(await w.fetch("/v1/me", init), 401);
      expect(problem.type).toBe(UNAUTHENTICATED);
      expect(problem.detail).toBe("unknown API key in X-API-Key");
    }
  });

  it("refuses an overlong key with 401", async () => {
    const problem = await expectProblem(
      await w.fetch("/v1/me", { headers: { "X-API-Key": "k".repeat(513) } }),
      401,
    );
    expect(problem.detail).toContain("X-API-Key");
  });
});

describe("JWT (HS256)", () => {
  const secret = () => env.JWT_SECRET;
  const claimWorker = () =>
    workerWith({
      QUOTA_POLICY: policyJson({ identity: { jwt: { enabled: true, claim: "org", tierClaim: "plan" } } }),
    });

  it("identifies the tenant from the configured claim and the tier from the tier claim", async () => {
    const w = claimWorker();
    const token = await sign({ sub: "user-1", org: "acme-jwt", plan: "enterprise" }, secret());
    const res = await w.fetch("/v1/me", { headers: bearer(token) });
    expect(res.headers.get("RateLimit-Policy")).toBe(ENTERPRISE_POLICY_HEADER);
    expect((await originEcho(res)).headers["x-quotagate-tenant"]).toBe("acme-jwt");
    const status = await quotaStatus({ headers: bearer(token) }, w.fetch);
    expect(status).toMatchObject({ tenant: "acme-jwt", tier: "enterprise", identified_by: "jwt" });
  });

  it("uses `sub` by default and the default tier without a tier claim", async () => {
    const w = workerWith({ QUOTA_POLICY: policyJson({ identity: { jwt: { enabled: true } } }) });
    const token = await sign({ sub: "acme-sub" }, secret());
    const status = await quotaStatus({ headers: bearer(token) }, w.fetch);
    expect(status).toMatchObject({ tenant: "acme-sub", tier: "free", identified_by: "jwt" });
  });

  it("accepts a numeric claim and ignores a tier claim naming no tier", async () => {
    const token = await sign({ org: 4711, plan: "platinum" }, secret());
    const status = await quotaStatus({ headers: bearer(token) }, claimWorker().fetch);
    expect(status).toMatchObject({ tenant: "4711", tier: "free" });
  });

  it("refuses a malformed token with 401", async () => {
    const w = claimWorker();
    for (const token of ["not-a-jwt", "a.b", "a.b.c.d", "a b.c", "e30.e30.e30", "%%%.%%%.%%%"]) {
      const problem = await expectProblem(await w.fetch("/v1/me", { headers: bearer(token) }), 401);
      expect(problem.type).toBe(UNAUTHENTICATED);
      expect(problem.detail).toMatch(/JWT/);
    }
  });

  it("refuses a token signed with another secret with 401", async () => {
    const token = await sign({ org: "acme-jwt" }, "another-secret-0123456789");
    const problem = await expectProblem(await claimWorker().fetch("/v1/me", { headers: bearer(token) }), 401);
    expect(problem.type).toBe(UNAUTHENTICATED);
    expect(problem.detail).toMatch(/JWT rejected/);
  });

  it("refuses an unsigned (alg: none) token with 401", async () => {
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"org":"acme-jwt"}')}.`;
    const problem = await expectProblem(await claimWorker().fetch("/v1/me", { headers: bearer(token) }), 401);
    expect(problem.detail).toMatch(/JWT/);
  });

  it("refuses an expired token with 401", async () => {
    const token = await sign({ org: "acme-jwt", exp: Math.floor(FROZEN_AT_MS / 1000) - 60 }, secret());
    const problem = await expectProblem(await claimWorker().fetch("/v1/me", { headers: bearer(token) }), 401);
    expect(problem.detail).toMatch(/JWT rejected/);
  });

  it("refuses a token without the tenant claim with 401 naming the claim", async () => {
    for (const payload of [{ sub: "user-1" }, { org: { id: "x" } }]) {
      const token = await sign(payload, secret());
      const problem = await expectProblem(
        await claimWorker().fetch("/v1/me", { headers: bearer(token) }),
        401,
      );
      expect(problem.detail).toContain('"org"');
    }
  });

  it("refuses a claim that is not a valid tenant id with 400", async () => {
    const token = await sign({ org: "acme\u0001jwt" }, secret());
    const problem = await expectProblem(await claimWorker().fetch("/v1/me", { headers: bearer(token) }), 400);
    expect(problem.type).toBe(TENANT_INVALID);
    expect(problem.detail).toContain('JWT claim "org"');
  });

  it("skips a non-Bearer Authorization header (no tenant then: 401)", async () => {
    const problem = await expectProblem(
      await claimWorker().fetch("/v1/me", { headers: { Authorization: "Basic dXNlcjpwYXNz" } }),
      401,
    );
    expect(problem.type).toBe(TENANT_MISSING);
  });
});

describe("client IP", () => {
  const ipWorker = () =>
    workerWith({ QUOTA_POLICY: policyJson({ identity: { ip: { enabled: true, tier: "free" } } }) });

  it("identifies anonymous traffic by CF-Connecting-IP, one quota per address", async () => {
    const w = ipWorker();
    for (let i = 0; i < 3; i++) {
      const res = await w.fetch("/v1/anon", { headers: { "CF-Connecting-IP": "203.0.113.9" } });
      const echo = await originEcho(res);
      expect(echo.headers["x-quotagate-tenant"]).toBe("ip:203.0.113.9");
      expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.9");
    }
    await originEcho(await w.fetch("/v1/anon", { headers: { "CF-Connecting-IP": "2001:db8::1" } }));

    const a = await quotaStatus({ headers: { "CF-Connecting-IP": "203.0.113.9" } }, w.fetch);
    expect(a).toMatchObject({ tenant: "ip:203.0.113.9", tier: "free", identified_by: "ip" });
    expect(a.limits.map((l) => l.used)).toEqual([3, 3, 0, 0]);
    const b = await quotaStatus({ headers: { "CF-Connecting-IP": "2001:db8::1" } }, w.fetch);
    expect(b).toMatchObject({ tenant: "ip:2001:db8::1", identified_by: "ip" });
    expect(b.limits.map((l) => l.used)).toEqual([1, 1, 0, 0]);
  });

  it("never takes the client address from X-Forwarded-For or X-Real-IP", async () => {
    const problem = await expectProblem(
      await ipWorker().fetch("/v1/anon", {
        headers: { "X-Forwarded-For": "198.51.100.1", "X-Real-IP": "198.51.100.1" },
      }),
      401,
    );
    expect(problem.type).toBe(TENANT_MISSING);
    expect(problem.detail).toContain("CF-Connecting-IP");
  });

  it("ignores a tenant header when the policy does not trust it", async () => {
    const res = await ipWorker().fetch(
      "/v1/anon",
      asTenant("spoofed", { "CF-Connecting-IP": "203.0.113.10" }),
    );
    expect((await originEcho(res)).headers["x-quotagate-tenant"]).toBe("ip:203.0.113.10");
  });
});

describe("bad input: a 4xx problem+json saying what is wrong", () => {
  it("401 when no tenant is identified", async () => {
    for (const path of ["/v1/me", "/quota/status"]) {
      const problem = await expectProblem(await gateway(path), 401);
      expect(problem.type).toBe(TENANT_MISSING);
      expect(problem.detail).toBe("no tenant identified: send a tenant id in X-Tenant-ID");
      expect(problem.instance).toBe(path);
    }
  });

  it("400 for an overlong id", async () => {
    for (const path of ["/v1/me", "/quota/status"]) {
      const problem = await expectProblem(await gateway(path, asTenant("t".repeat(129))), 400);
      expect(problem.type).toBe(TENANT_INVALID);
      expect(problem.detail).toBe("X-Tenant-ID is 129 characters long; the limit is 128");
    }
  });

  it.each([
    ["a control character", "ab\u0001cd", "0x01", 2],
    ["a tab", "ab\tcd", "0x09", 2],
    ["a space", "ab cd", "0x20", 2],
    ["DEL", "abcd\u007f", "0x7f", 4],
  ])("400 for an id with %s", async (_what, id, code, position) => {
    const problem = await expectProblem(await gateway("/v1/me", asTenant(id)), 400);
    expect(problem.type).toBe(TENANT_INVALID);
    expect(problem.detail).toContain(`(code ${code}) at position ${position}`);
  });

  it.each([
    ["a Latin-1 byte", "caf\u00e9", "0xe9", 3],
    ["a high byte", "\u00ffacme", "0xff", 0],
    ["a character beyond Latin-1", "tenant-\u65e5\u672c", "0x65e5", 7],
  ])("400 for an id with non-printable bytes: %s", async (_what, id, code, position) => {
    const problem = await expectProblem(await gateway("/v1/me", asTenant(id)), 400);
    expect(problem.type).toBe(TENANT_INVALID);
    expect(problem.detail).toContain(`(code ${code}) at position ${position}`);
  });

  it("counts none of the refused requests", async () => {
    await expectProblem(await gateway("/v1/me", asTenant("ok-id\u0001")), 400);
    const status = await quotaStatus(asTenant("ok-id"));
    expect(status.limits.map((l) => l.used)).toEqual([0, 0, 0, 0]);
  });
});
