// End to end in workerd, the dashboard: the page is a shell served without the token (no data in it, a nonce CSP),
// and GET /admin/dashboard/data, behind the token, carries what the page draws: per-minute decisions (allowed,
// denied, shadow-denied, deny-list blocks), top tenants by usage and by denials, cache, store, cost, leases, deny list.
import { describe, expect, it } from "vitest";
import { dashboardDataSchema } from "../src/http/dashboard/data-schema.ts";
import { adminInit, adminJson } from "./support/admin.ts";
import {
  expectProblem,
  FROZEN_AT_MS,
  gateway,
  policyJson,
  traffic,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

describe("GET /admin/dashboard", () => {
  it("serves the page without the token, with no data in it and only its own nonce'd script and style", async () => {
    await traffic("secret-tenant", 3);
    const res = await gateway("/admin/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toContain("secret-tenant");
    const csp = res.headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).toContain('id="chart-decisions"');
    expect((await gateway("/admin/dashboard")).headers.get("content-security-policy")).not.toBe(csp);
  });
});

describe("GET /admin/dashboard/data", () => {
  it("needs the admin token", async () => {
    await expectProblem(await gateway("/admin/dashboard/data"), 401);
  });

  it("carries the isolate's decisions per minute, rankings, cost and the deny list", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({
        tiers: {
          free: {
            limits: [
              { window: "minute", limit: 5 },
              { window: "day", limit: 3, mode: "shadow" },
            ],
          },
        },
      }),
    });
    await traffic("busy", 8, w.fetch); // 5 allowed (the last 2 over the shadow limit), 3 denied
    await traffic("calm", 2, w.fetch);
    await w.fetch("/admin/deny/tenants/blocked", adminInit("PUT", { reason: "abuse" }));
    await traffic("blocked", 2, w.fetch);
    const d = await adminJson(w.fetch, "/admin/dashboard/data", dashboardDataSchema);
    expect(d.minutes).toHaveLength(30);
    const now = d.minutes.at(-1)!;
    expect(now.minute).toBe(new Date(FROZEN_AT_MS - 30_000).toISOString());
    expect(now).toMatchObject({ allowed: 7, denied: 3, shadow_denied: 2, deny_blocks: 2 });
    expect(now.store_calls_per_request).toBeGreaterThan(0);
    expect(d.minutes.slice(0, -1).every((m) => m.allowed === 0 && m.denied === 0)).toBe(true);
    expect(d.top_usage).toEqual([
      { tenant: "busy", requests: 5, error: 0 },
      { tenant: "calm", requests: 2, error: 0 },
    ]);
    expect(d.top_denials).toEqual([{ tenant: "busy", denials: 3, error: 0 }]);
    expect(d.cache.hits + d.cache.misses).toBe(10);
    expect(d.store_latency.calls).toBeGreaterThan(0);
    expect(d.store_latency.buckets.reduce((n, b) => n + b.count, 0)).toBeLessThanOrEqual(
      d.store_latency.calls,
    );
    expect(d.cost.isolate.requests).toBe(10);
    expect(d.cost.price_per_100k_commands_usd).toBe(0.2);
    expect(d.leases.held).toBeGreaterThan(0);
    expect(d.deny).toEqual({
      total: 1,
      entries: [
        {
          kind: "tenant",
          value: "blocked",
          reason: "abuse",
          created_at: new Date(FROZEN_AT_MS).toISOString(),
        },
      ],
    });
  });
});
