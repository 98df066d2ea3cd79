// End to end in workerd, the deny list: tenants, API keys (by SHA-256) and client IP ranges (IPv4 and IPv6) put on
// and taken off through /admin/deny, refused with a 403 problem, listed normalised, invalid entries a 400; in every
// isolate within the cache TTL and with no store read per request.
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../src/core/clock.ts";
import {
  denyDeleteResponseSchema,
  denyListResponseSchema,
  denyPutResponseSchema,
} from "../src/http/admin/deny-schemas.ts";
import { adminInit, adminJson, BEARER, expectIssues, upstashWorker } from "./support/admin.ts";
import {
  asTenant,
  expectProblem,
  FROZEN_AT_MS,
  gateway,
  originEcho,
  policyJson,
  sha256Hex,
  traffic,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

useGatewayState();

const DENIED = "urn:quotagate:problem:denied";

const put = (path: string, body?: unknown) =>
  adminJson(gateway, `/admin/deny/${path}`, denyPutResponseSchema, adminInit("PUT", body));
const del = (path: string) =>
  adminJson(gateway, `/admin/deny/${path}`, denyDeleteResponseSchema, adminInit("DELETE"));

describe("deny list: tenants", () => {
  it("refuses a denied tenant with 403 until the entry is deleted; other tenants pass", async () => {
    const added = await put("tenants/evil", { reason: "scraping" });
    expect(added).toMatchObject({
      kind: "tenant",
      value: "evil",
      reason: "scraping",
      propagation_seconds: 60,
    });
    const res = await gateway("/v1/x", asTenant("evil"));
    const p = await expectProblem(res, 403);
    expect(p).toMatchObject({ type: DENIED, denied: "tenant", instance: "/v1/x" });
    expect(p.detail).not.toContain("scraping");
    expect(res.headers.get("ratelimit")).toBeNull();
    await originEcho(await gateway("/v1/x", asTenant("good")));

    expect(await del("tenants/evil")).toMatchObject({ removed: true, value: "evil" });
    await originEcho(await gateway("/v1/x", asTenant("evil")));
    expect((await del("tenants/evil")).removed).toBe(false);
  });

  it("does not count a refused request against the tenant's quota", async () => {
    await put("tenants/counted");
    expect(new Set(await traffic("counted", 5))).toEqual(new Set([403]));
    await del("tenants/counted");
    const res = await gateway("/v1/x", asTenant("counted"));
    expect(res.headers.get("x-ratelimit-remaining")).toBe("99");
  });
});

describe("deny list: API keys and IP ranges", () => {
  it("refuses an API key by its SHA-256, whichever tenant it names", async () => {
    const key = "sk-live-deny-me";
    const hash = await sha256Hex(key);
    const w = workerWith({
      QUOTA_POLICY: policyJson({
        identity: {
          order: ["apiKey", "header"],
          apiKey: { enabled: true, keys: { [hash]: { tenant: "acme" } } },
          header: { enabled: true },
        },
      }),
    });
    const withKey = { headers: { "X-API-Key": key } };
    await originEcho(await w.fetch("/v1/x", withKey));
    await adminJson(
      w.fetch,
      `/admin/deny/keys/${hash.toUpperCase()}`,
      denyPutResponseSchema,
      adminInit("PUT"),
    );
    const p = await expectProblem(await w.fetch("/v1/x", withKey), 403);
    expect(p.denied).toBe("key");
    // The tenant itself is not denied: another credential for it passes.
    expect((await w.fetch("/v1/x", { headers: { "X-Tenant-ID": "acme" } })).status).toBe(200);
  });

  it("refuses clients in a v4 or v6 range before asking for credentials; others pass", async () => {
    const v4 = await put("ips/10.1.2.3%2F8", { reason: "botnet" });
    expect(v4.value).toBe("10.0.0.0/8");
    // The slash may also come as is.
    expect((await put("ips/2001:db8::/32")).value).toBe("2001:db8::/32");
    const from = (ip: string, tenant?: string) =>
      gateway("/v1/x", { headers: { "CF-Connecting-IP": ip, ...(tenant ? { "X-Tenant-ID": tenant } : {}) } });
    expect((await expectProblem(await from("10.200.0.1"), 403)).denied).toBe("ip");
    expect((await expectProblem(await from("2001:db8:1::7", "t-v6"), 403)).denied).toBe("ip");
    expect((await expectProblem(await from("::ffff:10.0.0.9", "t-mapped"), 403)).denied).toBe("ip");
    await originEcho(await from("11.0.0.1", "t-v4"));
    await originEcho(await from("2001:db9::1", "t-v6b"));
    // Exempt routes stay open.
    expect((await from("10.0.0.1")).status).toBe(403);
    expect((await gateway("/health", { headers: { "CF-Connecting-IP": "10.0.0.1" } })).status).toBe(200);
  });

  it("lists every entry, normalised, grouped by kind", async () => {
    await put("tenants/zed", { reason: "r1" });
    await put(`keys/${"AB".repeat(32)}`);
    await put("ips/192.168.7.9");
    const list = await adminJson(gateway, "/admin/deny", denyListResponseSchema);
    expect(list.total).toBe(3);
    expect(list.tenants).toEqual([
      { value: "zed", reason: "r1", created_at: new Date(FROZEN_AT_MS).toISOString() },
    ]);
    expect(list.keys.map((e) => e.value)).toEqual(["ab".repeat(32)]);
    expect(list.ips.map((e) => e.value)).toEqual(["192.168.7.9/32"]);
  });

  it("answers invalid entries 400 naming the parameter, and a wrong method 405", async () => {
    const bad = (path: string, init = adminInit("PUT")) => gateway(`/admin/deny/${path}`, init);
    await expectIssues(await bad("ips/10.0.0.0%2F33"), ["cidr"]);
    await expectIssues(await bad("ips/not-an-ip"), ["cidr"]);
    await expectIssues(await bad("ips/fe80::1%25eth0"), ["cidr"]);
    await expectIssues(await bad("keys/abc"), ["sha256"]);
    await expectIssues(await bad("tenants/a%20b"), ["id"]);
    await expectIssues(await bad("tenants/ok", adminInit("PUT", { reason: "" })), ["reason"]);
    await expectIssues(await bad("tenants/ok", adminInit("PUT", { why: "x" })), ["why"]);
    const wrong = await gateway("/admin/deny/tenants/ok", { method: "POST", headers: BEARER });
    await expectProblem(wrong, 405);
    expect(wrong.headers.get("allow")).toBe("PUT, DELETE");
    await expectProblem(await gateway("/admin/deny/users/x", adminInit("PUT")), 404);
    expect((await adminJson(gateway, "/admin/deny", denyListResponseSchema)).total).toBe(0);
  });
});

describeWithRedis("deny list across isolates (Upstash)", () => {
  it("reaches another isolate within the cache TTL, with one store read per TTL and none per request", async () => {
    const clock = createFakeClock(FROZEN_AT_MS);
    const a = upstashWorker(clock, { QUOTA_CACHE_TTL: "30" });
    const b = upstashWorker(clock, { QUOTA_CACHE_TTL: "30" });
    const tenant = `deny-iso-${Date.now()}`;
    expect(await traffic(tenant, 3, b.fetch)).toEqual([200, 200, 200]);
    await adminJson(a.fetch, `/admin/deny/tenants/${tenant}`, denyPutResponseSchema, adminInit("PUT"));
    try {
      expect((await a.fetch("/v1/x", asTenant(tenant))).status).toBe(403); // the writer at once
      clock.advance(29_999);
      expect(await traffic(tenant, 20, b.fetch)).toEqual(Array(20).fill(200)); // b trusts its copy
      clock.advance(1);
      expect((await b.fetch("/v1/x", asTenant(tenant))).status).toBe(403);
      const metrics = await (await b.fetch("/admin/metrics", adminInit())).text();
      expect(metrics).toContain('quotagate_store_calls_total{op="deny"} 2');
      expect(metrics).toContain('quotagate_deny_blocks_total{kind="tenant"} 1');
    } finally {
      await adminJson(
        a.fetch,
        `/admin/deny/tenants/${tenant}`,
        denyDeleteResponseSchema,
        adminInit("DELETE"),
      );
    }
  });
});
