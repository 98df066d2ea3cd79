// End to end in workerd, admin authentication: every /admin route refuses a request without the token, with a wrong
// bearer or X-Admin-Key, or when ADMIN_TOKEN is unset (401 problem+json with a challenge), and accepts the token in
// Authorization or X-Admin-Key; unknown admin paths and wrong methods are guarded too.
import { describe, expect, it } from "vitest";
import { ADMIN_ROUTES, ADMIN_TOKEN, BEARER } from "./support/admin.ts";
import { expectProblem, type Fetcher, gateway, useGatewayState, workerWith } from "./support/gateway.ts";

useGatewayState();

const call = (
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  f: Fetcher = gateway,
) =>
  f(path, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe("admin authentication", () => {
  it.each(ADMIN_ROUTES)("%s %s answers 401 problem+json without credentials", async (method, path, body) => {
    const p = await expectProblem(await call(method, path, body, {}), 401);
    expect(p.type).toBe("urn:quotagate:problem:unauthenticated");
    expect(p.detail).toContain("admin credentials missing");
    expect(p.instance).toBe(path);
  });

  it.each(ADMIN_ROUTES)(
    "%s %s answers 401 to a wrong bearer token and a wrong X-Admin-Key",
    async (method, path, body) => {
      for (const headers of [
        { authorization: "Bearer wrong-token-0000000000" },
        { authorization: `Bearer ${ADMIN_TOKEN}x` },
        { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
        { authorization: "Bearer " },
        { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` },
        { "x-admin-key": "wrong-token-0000000000" },
        { "x-admin-key": "" },
      ]) {
        const res = await call(method, path, body, headers);
        const p = await expectProblem(res, 401);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="quotagate-admin"');
        expect(p.detail).toMatch(/invalid admin token|admin credentials missing/);
      }
    },
  );

  it.each(ADMIN_ROUTES)("%s %s accepts the bearer token and X-Admin-Key", async (method, path, body) => {
    for (const headers of [
      BEARER,
      { authorization: `bearer ${ADMIN_TOKEN}` },
      { "x-admin-key": ADMIN_TOKEN },
    ]) {
      const res = await call(method, path, body, headers);
      expect(res.status, await res.text()).toBe(200);
    }
  });

  it("answers every admin route 401 'admin API disabled' when ADMIN_TOKEN is unset, whatever is sent", async () => {
    const w = workerWith({ ADMIN_TOKEN: undefined });
    for (const [method, path, body] of ADMIN_ROUTES) {
      for (const headers of [{}, BEARER, { "x-admin-key": ADMIN_TOKEN }, { authorization: "Bearer " }]) {
        const p = await expectProblem(await call(method, path, body, headers, w.fetch), 401);
        expect(p.detail).toBe("admin API disabled: set ADMIN_TOKEN");
      }
    }
  });

  it("guards unknown admin paths too: 401 without the token, 404 problem with it", async () => {
    await expectProblem(await gateway("/admin/nope"), 401);
    await expectProblem(await gateway("/admin"), 401);
    const p = await expectProblem(await gateway("/admin/nope", { headers: BEARER }), 404);
    expect(p.detail).toContain("openapi.json");
  });

  it("answers a wrong method 405 with Allow", async () => {
    const res = await gateway("/admin/quota/stats", { method: "DELETE", headers: BEARER });
    await expectProblem(res, 405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    const res2 = await gateway("/admin/quota/update", { headers: BEARER });
    await expectProblem(res2, 405);
    expect(res2.headers.get("allow")).toBe("POST");
  });

  it("accepts a request that carries a tenant JWT in Authorization and the admin token in X-Admin-Key", async () => {
    const res = await gateway("/admin/quota/stats", {
      headers: { authorization: "Bearer a.b.c", "x-admin-key": ADMIN_TOKEN },
    });
    expect(res.status).toBe(200);
  });
});
