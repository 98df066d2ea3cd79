// End to end in workerd, admin aspect: every /admin route's shape (checked against the schemas /admin/openapi.json is
// built from), authentication (missing, wrong bearer, wrong X-Admin-Key, token unset), every bad input answered 400
// with each issue listed, tenant updates, resets, metrics and the OpenAPI document itself.
import { describe, expect, inject, it } from "vitest";
import {
  adminHealthResponseSchema,
  clearResponseSchema,
  publicHealthResponseSchema,
  quotaStatusResponseSchema,
  statsResponseSchema,
  tenantResetResponseSchema,
  tenantUpdateResponseSchema,
  tenantViewResponseSchema,
  usageResponseSchema,
  warmResponseSchema,
} from "../src/http/admin/schemas.ts";
import { cacheStatus, hashStatus, overallHealth } from "../src/http/admin/stats.ts";
import { decodeUsageCursor, encodeUsageCursor, type UsageCursor } from "../src/limiter/usage-report.ts";
import { ADMIN_TOKEN, adminInit, adminJson, adminWorker, BEARER, type Fetcher } from "./support/admin.ts";
import {
  asTenant,
  expectProblem,
  gateway,
  originEcho,
  policyJson,
  useGatewayState,
} from "./support/gateway.ts";

useGatewayState();

/** Every admin route with a request that is valid once authenticated. */
const ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ["GET", "/admin/quota/stats"],
  ["GET", "/admin/quota/usage"],
  ["POST", "/admin/quota/cache/warm", { tenant_ids: ["t1"], plan_type: "free" }],
  ["POST", "/admin/quota/cache/clear"],
  ["GET", "/admin/quota/health"],
  ["POST", "/admin/quota/update", { tenant_id: "t1", tier: "pro" }],
  ["GET", "/admin/tenants/t1"],
  ["PUT", "/admin/tenants/t1", { tier: "pro" }],
  ["POST", "/admin/tenants/t1/reset"],
  ["GET", "/admin/metrics"],
  ["GET", "/admin/openapi.json"],
];

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

/** Sends `n` proxied requests for a tenant; returns the statuses. */
async function traffic(tenant: string, n: number, f: Fetcher = gateway): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await f(`/v1/work/${i}`, asTenant(tenant));
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

/** Returns every lease to the store, so that stored usage equals admitted units. */
async function settle(f: Fetcher = gateway): Promise<void> {
  await adminJson(f, "/admin/quota/cache/clear", clearResponseSchema, adminInit("POST"));
}

async function expectIssues(
  res: Response,
  paths: string[],
): Promise<Array<{ path: string; message: string }>> {
  const p = await expectProblem(res, 400);
  expect(p.errors, JSON.stringify(p)).toBeDefined();
  expect(p.errors!.map((e) => e.path).sort()).toEqual([...paths].sort());
  for (const e of p.errors!) expect(e.message.length).toBeGreaterThan(0);
  for (const path of paths) expect(p.detail).toContain(path);
  return p.errors!;
}

describe("admin authentication", () => {
  it.each(ROUTES)("%s %s answers 401 problem+json without credentials", async (method, path, body) => {
    const p = await expectProblem(await call(method, path, body, {}), 401);
    expect(p.type).toBe("urn:quotagate:problem:unauthenticated");
    expect(p.detail).toContain("admin credentials missing");
    expect(p.instance).toBe(path);
  });

  it.each(ROUTES)(
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

  it.each(ROUTES)("%s %s accepts the bearer token and X-Admin-Key", async (method, path, body) => {
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
    const w = adminWorker({ ADMIN_TOKEN: undefined });
    for (const [method, path, body] of ROUTES) {
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

describe("GET /admin/quota/stats", () => {
  it("reports the serving isolate's hits, misses and store calls, and the fleet totals once flushed", async () => {
    const fresh = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(fresh.store).toBe("memory");
    expect(fresh.stats).toMatchObject({
      cache_hits: 0,
      cache_misses: 0,
      total_requests: 0,
      hit_rate_percent: 0,
    });
    expect(fresh.stats.cache_max_size).toBe(10_000);
    expect(fresh.fleet).toMatchObject({ date: "2026-11-23", total_requests: 0 });

    expect(await traffic("t-stats", 20)).toEqual(Array(20).fill(200));
    const { stats } = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(stats.total_requests).toBe(20);
    expect(stats.allowed).toBe(20);
    expect(stats.cache_hits + stats.cache_misses).toBe(20);
    // The first request leases allowance from the store; most of the rest are decided from it.
    expect(stats.cache_misses).toBeGreaterThanOrEqual(1);
    expect(stats.cache_hits).toBeGreaterThanOrEqual(10);
    expect(stats.hit_rate_percent).toBe(Math.round((stats.cache_hits / 20) * 1000) / 10);
    expect(stats.redis_calls).toBeGreaterThanOrEqual(stats.cache_misses);
    expect(stats.plan_cache_misses).toBe(1);
    expect(stats.plan_cache_hits).toBe(19);
    expect(stats.cache_entries.plan).toBe(1);
    expect(stats.cache_entries.lease).toBeGreaterThanOrEqual(1);
    // One tenant: one book, holding its plan and its leases.
    expect(stats.cache_size).toBe(1);

    await settle(); // a cache clear sends the isolate's counters to the fleet stats
    const after = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(after.fleet).toMatchObject({ allowed: 20, denied: 0, total_requests: 20 });
    expect(after.fleet!.cache_hits + after.fleet!.cache_misses).toBe(20);
    expect(after.stats.cache_size).toBe(0);
  });

  it("counts cached denials as hits", async () => {
    const w = adminWorker({
      QUOTA_POLICY: policyJson({ tiers: { free: { limits: [{ window: "day", limit: 3 }] } } }),
    });
    const statuses = await traffic("t-deny", 10, w.fetch);
    expect(statuses).toEqual([200, 200, 200, ...Array(7).fill(429)]);
    const { stats } = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats).toMatchObject({ total_requests: 10, allowed: 3, denied: 7 });
    expect(stats.cache_entries.denial).toBe(1);
    expect(stats.cache_hits).toBeGreaterThanOrEqual(6); // every denial after the first comes from the cache
  });
});

describe("GET /admin/quota/usage", () => {
  it("lists today's units per tenant with the seed's statistics, EXCEEDED at the day limit", async () => {
    const w = adminWorker({
      QUOTA_POLICY: policyJson({ tiers: { free: { limits: [{ window: "day", limit: 5 }] } } }),
    });
    await traffic("u-a", 2, w.fetch);
    await traffic("u-b", 3, w.fetch);
    expect(await traffic("u-c", 7, w.fetch)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    await settle(w.fetch);
    const body = await adminJson(w.fetch, "/admin/quota/usage", usageResponseSchema);
    expect(body).toEqual({
      success: true,
      date: "2026-11-23",
      dimension: "requests",
      period_id: "20261123",
      tenants: { "u-a": 2, "u-b": 3, "u-c": "EXCEEDED" },
      statistics: {
        total_tenants: 3,
        exceeded_tenants: 1,
        active_tenants: 2,
        returned: 3,
        leased_units_excluded: 0,
        limit: 100,
        truncated: false,
      },
      next_cursor: null,
    });
  });

  it("leaves out what the serving isolate holds leased but unspent: live figures are the admitted units", async () => {
    await traffic("live-1", 3);
    await traffic("live-2", 5);
    const body = await adminJson(gateway, "/admin/quota/usage", usageResponseSchema);
    expect(body.tenants).toEqual({ "live-1": 3, "live-2": 5 });
    // The store counts the leases (admitted + held); the listing subtracts this isolate's share.
    expect(body.statistics.leased_units_excluded).toBeGreaterThan(0);
  });

  it("judges EXCEEDED by the tenant's plan when this isolate has it cached, else by the default tier", async () => {
    const w = adminWorker({
      QUOTA_POLICY: policyJson({
        tiers: {
          free: { limits: [{ window: "day", limit: 5 }] },
          pro: { limits: [{ window: "day", limit: 50 }] },
        },
      }),
    });
    await traffic("u-pro", 6, w.fetch);
    await settle(w.fetch);
    await adminJson(
      w.fetch,
      "/admin/quota/update",
      tenantUpdateResponseSchema,
      adminInit("POST", { tenant_id: "u-pro", tier: "pro" }),
    );
    // Not cached after the update: the default tier's 5 applies.
    let body = await adminJson(w.fetch, "/admin/quota/usage", usageResponseSchema);
    expect(body.tenants).toEqual({ "u-pro": "EXCEEDED" });
    await traffic("u-pro", 1, w.fetch); // caches its plan (pro)
    await settle(w.fetch);
    await adminJson(
      w.fetch,
      "/admin/quota/cache/warm",
      warmResponseSchema,
      adminInit("POST", { tenant_ids: ["u-pro"], plan_type: "pro" }),
    );
    body = await adminJson(w.fetch, "/admin/quota/usage", usageResponseSchema);
    expect(body.tenants).toEqual({ "u-pro": 6 });
    expect(body.statistics).toMatchObject({ exceeded_tenants: 0, active_tenants: 1 });
  });

  it("pages through every tenant exactly once with next_cursor, which carries the date and dimension", async () => {
    const tenants = Array.from({ length: 25 }, (_, i) => `p-${String(i).padStart(2, "0")}`);
    for (const t of tenants) await traffic(t, 1);
    await settle();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor
        ? `?limit=10&cursor=${cursor}`
        : "?limit=10&date_str=2026-11-23&dimension=requests";
      const body = await adminJson(gateway, `/admin/quota/usage${qs}`, usageResponseSchema);
      pages++;
      expect(body.statistics.total_tenants).toBe(25);
      expect(body.statistics.returned).toBe(Object.keys(body.tenants).length);
      expect(body.statistics.returned).toBeLessThanOrEqual(10);
      expect(body.statistics.truncated).toBe(body.next_cursor !== null);
      for (const [t, units] of Object.entries(body.tenants)) {
        expect(units).toBe(1);
        seen.push(t);
      }
      cursor = body.next_cursor;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(tenants);
  });

  it("lists another day (empty) and another dimension (empty)", async () => {
    await traffic("d-1", 1);
    await settle();
    const other = await adminJson(gateway, "/admin/quota/usage?date_str=2026-11-22", usageResponseSchema);
    expect(other).toMatchObject({ date: "2026-11-22", tenants: {}, statistics: { total_tenants: 0 } });
    const tokens = await adminJson(
      gateway,
      "/admin/quota/usage?dimension=tokens&limit=",
      usageResponseSchema,
    );
    expect(tokens).toMatchObject({ dimension: "tokens", tenants: {}, statistics: { limit: 100 } });
  });

  it("answers 400 listing every bad query parameter", async () => {
    await expectIssues(
      await gateway("/admin/quota/usage?limit=0&date_str=2026-02-30&dimension=bad%20dim&cursor=zzz&foo=1", {
        headers: BEARER,
      }),
      ["limit", "date_str", "dimension", "cursor", "foo"],
    );
    await expectIssues(await gateway("/admin/quota/usage?limit=1001", { headers: BEARER }), ["limit"]);
    await expectIssues(await gateway("/admin/quota/usage?limit=abc", { headers: BEARER }), ["limit"]);
    await expectIssues(await gateway("/admin/quota/usage?limit=2.5", { headers: BEARER }), ["limit"]);
    const [issue] = await expectIssues(
      await gateway("/admin/quota/usage?date_str=23-11-2026", { headers: BEARER }),
      ["date_str"],
    );
    expect(issue!.message).toContain("YYYY-MM-DD");
  });

  it("round-trips cursors (a resume inside the very first store batch included) and rejects forged ones", () => {
    const first: UsageCursor = { l: "requests:day", p: "20261123", c: "0", n: 100, a: "t-42" };
    const later: UsageCursor = { l: "tokens:day", p: "20261123", c: "7:123456789", n: 1000 };
    for (const c of [first, later]) expect(decodeUsageCursor(encodeUsageCursor(c))).toEqual(c);
    for (const forged of [
      { ...later, c: "0" }, // the start without a resume point: a listing never hands that out
      { ...later, c: "NaN:1" },
      { ...later, l: "requests:minute" },
      { ...later, p: "2026-11-23" },
      { ...later, p: "20261399" },
      { ...later, n: 0 },
      { ...later, a: "" },
    ])
      expect(decodeUsageCursor(encodeUsageCursor(forged as UsageCursor))).toBeNull();
    expect(decodeUsageCursor("not base64!")).toBeNull();
    expect(decodeUsageCursor(btoa("[1,2]"))).toBeNull();
  });

  it("refuses a cursor used with another date or dimension", async () => {
    for (let i = 0; i < 3; i++) await traffic(`c-${i}`, 1);
    await settle();
    const first = await adminJson(gateway, "/admin/quota/usage?limit=1", usageResponseSchema);
    expect(first.next_cursor).not.toBeNull();
    const [issue] = await expectIssues(
      await gateway(`/admin/quota/usage?limit=1&cursor=${first.next_cursor}&date_str=2026-11-22`, {
        headers: BEARER,
      }),
      ["cursor"],
    );
    expect(issue!.message).toContain("requests:day on 2026-11-23");
    await expectIssues(
      await gateway(`/admin/quota/usage?cursor=${first.next_cursor}&dimension=tokens`, { headers: BEARER }),
      ["cursor"],
    );
  });
});

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

describe("GET /admin/quota/health", () => {
  it("is healthy on a working store, with the seed's checks", async () => {
    await traffic("h-1", 50); // a few store round trips while leases grow, then decisions from the leases
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.status).toBe("healthy");
    expect(body.checks.redis_connection).toBe("ok");
    expect(body.checks.cache_performance).toMatchObject({ status: "good", requests: 50 });
    expect(body.checks.cache_performance.hit_rate_percent).toBeGreaterThan(80);
    expect(body.checks.hash_storage).toMatchObject({ tenant_count: 1, shards: 16, status: "ok" });
    expect(body.checks.hash_storage.estimated_size_mb).toBeLessThan(0.01);
  });

  it("is degraded when the cache hit rate is poor", async () => {
    // Every request of a new tenant needs the store: hit rate 0 %.
    for (let i = 0; i < 5; i++) await traffic(`h-cold-${i}`, 1);
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.checks.cache_performance.status).toBe("poor");
    expect(body.status).toBe("degraded");
  });

  it("is healthy on an idle isolate (nothing to judge yet)", async () => {
    const body = await adminJson(gateway, "/admin/quota/health", adminHealthResponseSchema);
    expect(body.status).toBe("healthy");
    expect(body.checks.cache_performance).toEqual({ hit_rate_percent: 0, status: "good", requests: 0 });
  });

  it("applies seed 000's thresholds: hit rate good > 80 %, poor < 60 %; hash warning > 100 MB per key", () => {
    expect(cacheStatus(80.1, 10)).toBe("good");
    expect(cacheStatus(80, 10)).toBe("acceptable");
    expect(cacheStatus(60, 10)).toBe("acceptable");
    expect(cacheStatus(59.9, 10)).toBe("poor");
    expect(cacheStatus(0, 0)).toBe("good");
    expect(hashStatus(100)).toBe("ok");
    expect(hashStatus(100.01)).toBe("warn");
    expect(hashStatus(null)).toBe("unknown");
    expect(overallHealth(true, "good", "ok")).toBe("healthy");
    expect(overallHealth(true, "acceptable", "ok")).toBe("healthy");
    expect(overallHealth(true, "poor", "ok")).toBe("degraded");
    expect(overallHealth(true, "good", "warn")).toBe("degraded");
    expect(overallHealth(false, "good", "ok")).toBe("unhealthy");
  });

  it("is unhealthy (503, same body) when the store is unreachable; stats still answer, store routes 503", async () => {
    const w = adminWorker({
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${inject("closedPort")}`,
      UPSTASH_REDIS_REST_TOKEN: "unreachable",
      STORE_TIMEOUT_MS: "500",
    });
    const body = await adminJson(w.fetch, "/admin/quota/health", adminHealthResponseSchema, adminInit(), 503);
    expect(body.status).toBe("unhealthy");
    expect(body.store).toBe("upstash");
    expect(body.checks.redis_connection).toMatch(/^error: /);
    expect(body.checks.hash_storage).toMatchObject({
      tenant_count: null,
      estimated_size_mb: null,
      status: "unknown",
    });

    const stats = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats.fleet).toBeNull();
    expect(stats.fleet_error).toContain("store failed while reading the fleet stats");
    expect(stats.stats.store_errors).toBeGreaterThanOrEqual(1);

    for (const [method, path, b] of [
      ["GET", "/admin/quota/usage"],
      ["POST", "/admin/quota/update", { tenant_id: "x", tier: "pro" }],
      ["GET", "/admin/tenants/x"],
      ["POST", "/admin/tenants/x/reset"],
    ] as Array<[string, string, unknown?]>) {
      const p = await expectProblem(await w.fetch(path, adminInit(method, b)), 503);
      expect(p.detail).toContain("store failed while");
    }
  });
});

describe("tenants: POST /admin/quota/update, PUT/GET /admin/tenants/:id, POST /admin/tenants/:id/reset", () => {
  it("sets a tier (seed 003's X-Admin-Key call), applied at once by the serving isolate", async () => {
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
      "requests-hour:50:shadow",
    ]);
    expect(await traffic("ov-1", 5)).toEqual([200, 200, 200, 429, 429]);
    const view = await adminJson(gateway, "/admin/tenants/ov-1", tenantViewResponseSchema);
    expect(view.overrides).toEqual(body.overrides);
  });

  it("lifts a cached denial when the tier is raised", async () => {
    const w = adminWorker({
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
      reset: ["requests-minute", "requests-day"],
    });
    const view = await adminJson(gateway, "/admin/tenants/rs-1", tenantViewResponseSchema);
    expect(view.limits.map((l) => l.used)).toEqual([0, 0]);
    expect(await traffic("rs-1", 3)).toEqual([200, 200, 200]);
    await settle();
    const usage = await adminJson(gateway, "/admin/quota/usage", usageResponseSchema);
    expect(usage.tenants).toEqual({ "rs-1": 3 });
  });
});

describe("GET /admin/metrics", () => {
  it("serves the Prometheus text exposition with the cache entries gauge", async () => {
    await traffic("m-1", 3);
    const res = await gateway("/admin/metrics", { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const { stats } = await adminJson(gateway, "/admin/quota/stats", statsResponseSchema);
    expect(text).toContain("# TYPE quotagate_cache_entries gauge");
    expect(text).toMatch(new RegExp(`^quotagate_cache_entries ${stats.cache_size}$`, "m"));
    expect(text).toContain("# TYPE quotagate_decisions_total counter");
    expect(text).toMatch(/^quotagate_decisions_total\{outcome="allowed",reason="ok"\} 3$/m);
    expect(text).toMatch(/^quotagate_store_latency_seconds_bucket\{op="acquire",le="\+Inf"\} \d+$/m);
    for (const line of text.trimEnd().split("\n"))
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$/);
    expect(text).not.toContain("m-1"); // labels never name a tenant
  });
});

describe("GET /admin/openapi.json", () => {
  interface OpenApiDoc {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<Record<string, unknown>>;
          requestBody?: unknown;
          responses: Record<string, unknown>;
        }
      >
    >;
  }

  const fetchDoc = async () => {
    const res = await gateway("/admin/openapi.json", { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    return (await res.json()) as OpenApiDoc;
  };

  it("documents every admin route, /quota/status and /health from the validating schemas", async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      ["/health", "/quota/status", ...new Set(ROUTES.map(([, p]) => p.replace("/t1", "/{id}")))].sort(),
    );
    const usage = doc.paths["/admin/quota/usage"]!.get!;
    expect(usage.parameters).toContainEqual(
      expect.objectContaining({
        name: "limit",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
      }),
    );
    const warm = doc.paths["/admin/quota/cache/warm"]!.post!;
    expect(JSON.stringify(warm.requestBody)).toContain('"enum":["free","pro","enterprise"]');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        if (path.startsWith("/admin")) expect(op.responses).toHaveProperty("401");
        expect(Object.keys(op.responses)).toContain(path === "/admin/quota/health" ? "503" : "200");
      }
    }
  });

  it("names only routes that exist: each documented operation answers (not 404) with the token", async () => {
    const doc = await fetchDoc();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const res = await gateway(path.replace("{id}", "t1"), {
          method: method.toUpperCase(),
          headers: { ...BEARER, ...asTenant("doc").headers },
          ...(method === "get" ? {} : { body: "{}" }),
        });
        await res.arrayBuffer();
        expect([200, 400], `${method} ${path}`).toContain(res.status);
      }
    }
  });

  it("describes what /health and /quota/status answer", async () => {
    publicHealthResponseSchema.parse(await (await gateway("/health")).json());
    const status = quotaStatusResponseSchema.parse(
      await (await gateway("/quota/status", asTenant("doc"))).json(),
    );
    expect(status.tenant).toBe("doc");
  });
});
