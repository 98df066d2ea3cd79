// End to end in workerd, GET /admin/quota/usage: today's units per tenant (EXCEEDED at the day limit, leased but
// unspent units left out), paging with cursors bound to a date and dimension, and 400 for every bad parameter.
import { describe, expect, it } from "vitest";
import {
  tenantUpdateResponseSchema,
  usageResponseSchema,
  warmResponseSchema,
} from "../src/http/admin/schemas.ts";
import { decodeUsageCursor, encodeUsageCursor, type UsageCursor } from "../src/limiter/usage-report.ts";
import { adminInit, adminJson, BEARER, expectIssues, settle } from "./support/admin.ts";
import { gateway, policyJson, traffic, useGatewayState, workerWith } from "./support/gateway.ts";

useGatewayState();

describe("GET /admin/quota/usage", () => {
  it("lists today's units per tenant with its statistics, EXCEEDED at the day limit", async () => {
    const w = workerWith({
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
    const w = workerWith({
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
