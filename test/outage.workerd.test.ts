// End to end in workerd, a store that cannot be reached: workers on an Upstash URL where nothing listens answer by
// each tier's failure policy (fail-open admits, fail-closed 503s with Retry-After, degraded admits its share), the
// tenant's /quota/status is a 503 problem, no answer quotes the store's error, and the breaker shows in admin stats.
import { describe, expect, it } from "vitest";
import { statsResponseSchema } from "../src/http/admin/schemas.ts";
import { adminJson } from "./support/admin.ts";
import {
  asTenant,
  expectProblem,
  policyJson,
  type TestWorker,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

const minute = (limit: number) => [{ dimension: "requests", window: "minute", limit }];

/** A worker whose store is a loopback port with nothing behind it: every store call fails at once. */
function downWorker(): TestWorker {
  return workerWith({
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "unreachable",
    QUOTA_POLICY: policyJson({
      defaultTier: "open",
      tiers: {
        open: { limits: minute(5), failure: "open" },
        closed: { limits: minute(5), failure: "closed" },
        degraded: { limits: minute(20), failure: "degraded", degradedShare: 0.25 },
      },
      tenants: { "t-closed": { tier: "closed" }, "t-degraded": { tier: "degraded" } },
    }),
  });
}

async function statuses(w: TestWorker, tenant: string, n: number): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < n; i++) out.push(await w.fetch(`/v1/outage/${i}`, asTenant(tenant)));
  return out;
}

const leaks = (text: string) => /127\.0\.0\.1|ECONNREFUSED|fetch failed|:9\b|unreachable"/i.test(text);

describe("store unreachable", () => {
  it("fail-closed answers 503 problem+json with Retry-After, never quoting the store's error", async () => {
    const w = downWorker();
    for (const res of await statuses(w, "t-closed", 3)) {
      expect(res.headers.get("retry-after")).toBe("1");
      const p = await expectProblem(res, 503);
      expect(p.type).toBe("https://iana.org/assignments/http-problem-types#temporary-reduced-capacity");
      expect(leaks(JSON.stringify(p))).toBe(false);
    }
  });

  it("fail-open admits every request, past the limit, and the origin serves them", async () => {
    const w = downWorker();
    const res = await statuses(w, "t-open", 8);
    expect(res.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const r of res) expect(r.headers.get("x-origin")).toBe("demo");
  });

  it("degraded admits this isolate's share of the limit per window, then 429 with Retry-After", async () => {
    const w = downWorker();
    const res = await statuses(w, "t-degraded", 8);
    expect(res.map((r) => r.status)).toEqual([...Array(5).fill(200), 429, 429, 429]);
    const p = await expectProblem(res[5]!, 429);
    expect(p.detail).toContain("degraded share");
    expect(res[5]!.headers.get("retry-after")).toBe("1");
  });

  it("/quota/status is a 503 problem with Retry-After; admin stats show the breaker open", async () => {
    const w = downWorker();
    await statuses(w, "t-open", 1);
    const res = await w.fetch("/quota/status", asTenant("t-open"));
    expect(res.headers.get("retry-after")).toBe("1");
    const p = await expectProblem(res, 503);
    expect(leaks(JSON.stringify(p))).toBe(false);
    const stats = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats.stats.store_breaker.state).toBe("open");
    expect(stats.fleet).toBeNull();
    expect(leaks(stats.fleet_error ?? "")).toBe(false);
  });
});
