// Several isolates (separate workerd instances of the real worker bundle) share one local Upstash-compatible server
// and redis-server: strict mode admits exactly min(L, attempts) for a hot tenant, never denies a tenant under its
// limit, and after the flush the recorded usage equals the admitted units.
import IORedis from "ioredis";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { calendarPeriod } from "../src/algorithms/calendar-window.ts";
import { compileLimit } from "../src/policy/compiled-policy.ts";
import { shardOf, usageKey } from "../src/store/keys.ts";
import { type DemoOrigin, startDemoOrigin } from "../tools/demo-origin.ts";
import { buildWorker, type Isolates, startIsolates } from "../tools/isolates.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const ISOLATES = 3;
const ADMIN = "multi-isolate-admin-token";
const CASES = [
  { tenant: "hot-1", limit: 1, attempts: 40 },
  { tenant: "hot-10", limit: 10, attempts: 90 },
  { tenant: "hot-10000", limit: 10_000, attempts: 11_000 },
];

const policy = {
  defaultTier: "free",
  tiers: {
    free: { limits: [{ window: "month", limit: 1_000 }] },
    ...Object.fromEntries(CASES.map((c) => [c.tenant, { limits: [{ window: "month", limit: c.limit }] }])),
    roomy: { limits: [{ window: "month", limit: 100_000 }] },
  },
  tenants: {
    ...Object.fromEntries(CASES.map((c) => [c.tenant, { tier: c.tenant }])),
    steady: { tier: "roomy" },
  },
  identity: { header: { enabled: true } },
  // A store timeout must never admit here (fail-open would, by design): the test is about strict mode.
  failure: "closed",
};

/** Sends `count` requests for a tenant, round-robin over the isolates, `concurrency` at a time. */
async function hammer(
  iso: Isolates,
  tenant: string,
  count: number,
  concurrency = 24,
): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await iso.fetch(i % ISOLATES, `/hammer/${i}`, { headers: { "x-tenant-id": tenant } });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

describeWithRedis("multi-isolate strict mode", () => {
  let origin: DemoOrigin;
  let iso: Isolates;
  let redis: IORedis;

  beforeAll(async () => {
    origin = await startDemoOrigin(0);
    redis = new IORedis(inject("redisUrl"));
    const script = await buildWorker();
    iso = await startIsolates(ISOLATES, script, {
      ORIGIN_URL: origin.url,
      UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
      ADMIN_TOKEN: ADMIN,
      QUOTA_POLICY: JSON.stringify(policy),
      // A loaded CI machine must not turn slow round trips into failures.
      STORE_TIMEOUT_MS: "15000",
    });
  }, 120_000);

  afterAll(async () => {
    await iso?.dispose();
    await origin?.close();
    redis?.disconnect();
  });

  const flushAll = async () => {
    for (let i = 0; i < ISOLATES; i++) {
      const res = await iso.fetch(i, "/admin/quota/cache/clear", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };

  const recorded = async (tenant: string) => {
    const month = compileLimit({ window: "month", limit: 1 });
    const key = usageKey(month, calendarPeriod("month", Date.now()).id, shardOf(tenant));
    return Number((await redis.hget(key, tenant)) ?? 0);
  };

  for (const c of CASES) {
    it(`admits exactly min(L, attempts) for L = ${c.limit}`, async () => {
      const before = origin.requests();
      const statuses = await hammer(iso, c.tenant, c.attempts);
      const admitted = statuses[200] ?? 0;
      expect(admitted).toBe(Math.min(c.limit, c.attempts));
      expect(statuses[429] ?? 0).toBe(c.attempts - admitted);
      expect(origin.requests() - before).toBe(admitted);
      await flushAll();
      expect(await recorded(c.tenant)).toBe(admitted);
    }, 180_000);
  }

  it("never denies a tenant under its limit", async () => {
    const statuses = await hammer(iso, "steady", 600);
    expect(statuses).toEqual({ 200: 600 });
    await flushAll();
    expect(await recorded("steady")).toBe(600);
  }, 120_000);
});
