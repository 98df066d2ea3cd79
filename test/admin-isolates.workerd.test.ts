// End to end in workerd, admin aspect across isolates: workers built by createWorker on the run's local Upstash
// server share the store but not their caches, like isolates of one deployment. A tier change made through one reaches
// the other within QUOTA_CACHE_TTL (fake clock, no sleeps); fleet stats, usage listings and resets span them.
import { expect, it } from "vitest";
import { createFakeClock, type FakeClock } from "../src/core/clock.ts";
import {
  statsResponseSchema,
  tenantResetResponseSchema,
  tenantUpdateResponseSchema,
  tenantViewResponseSchema,
  usageResponseSchema,
} from "../src/http/admin/schemas.ts";
import { adminInit, adminJson, settle, upstashWorker } from "./support/admin.ts";
import { asTenant, policyJson, quotaStatus, traffic } from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const random = (n: number) => crypto.getRandomValues(new Uint32Array(1))[0]! % n;
/** Tenants of this run (the local Upstash server is shared by the suites of the run). */
const RUN = `r${random(1e9).toString(36)}`;

/** 12:00:30 UTC on a day of its own, so that this run's fleet stats and usage hashes are its alone. */
function freshClock(): { clock: FakeClock; date: string } {
  const day = Date.UTC(2031 + random(20), random(12), 1 + random(28));
  const date = new Date(day).toISOString().slice(0, 10);
  return { clock: createFakeClock(day + 12 * 3_600_000 + 30_000), date };
}

describeWithRedis("admin API across isolates sharing an Upstash store", () => {
  it("a tier change made through one isolate reaches the other once its cached plan expires (QUOTA_CACHE_TTL)", async () => {
    const { clock } = freshClock();
    const a = upstashWorker(clock);
    const b = upstashWorker(clock);
    const tenant = `${RUN}-tier`;

    // B serves the tenant first and caches its plan: free, 100 a minute.
    const before = await b.fetch("/v1/first", asTenant(tenant));
    await before.arrayBuffer();
    expect(before.headers.get("X-RateLimit-Limit")).toBe("100");

    const update = await adminJson(
      a.fetch,
      "/admin/quota/update",
      tenantUpdateResponseSchema,
      adminInit("POST", { tenant_id: tenant, tier: "pro" }),
    );
    expect(update).toMatchObject({ tier: "pro", version: 1, propagation_seconds: 60 });

    // A applies it at once; B still has the free plan cached (it trusts its copy for QUOTA_CACHE_TTL).
    expect((await quotaStatus(asTenant(tenant), a.fetch)).tier).toBe("pro");
    expect((await quotaStatus(asTenant(tenant), b.fetch)).tier).toBe("free");
    clock.advance(59_000);
    expect((await quotaStatus(asTenant(tenant), b.fetch)).tier).toBe("free");

    clock.advance(2_000); // past the 60 s TTL since B cached the plan
    const status = await quotaStatus(asTenant(tenant), b.fetch);
    expect(status.tier).toBe("pro");
    expect(status.limits.find((l) => l.name === "requests-minute")!.limit).toBe(1000);
    const res = await b.fetch("/v1/after", asTenant(tenant));
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get("X-RateLimit-Limit")).toBe("1000");

    // Both isolates read the same record.
    for (const w of [a, b]) {
      const view = await adminJson(w.fetch, `/admin/tenants/${tenant}`, tenantViewResponseSchema);
      expect(view).toMatchObject({ tier: "pro", source: "admin", version: 1 });
    }
  });

  it("fleet stats add up what every isolate flushed; isolate stats stay per isolate", async () => {
    const { clock, date } = freshClock();
    const a = upstashWorker(clock);
    const b = upstashWorker(clock);
    expect(await traffic(`${RUN}-fa`, 7, a.fetch)).toEqual(Array(7).fill(200));
    expect(await traffic(`${RUN}-fb`, 5, b.fetch)).toEqual(Array(5).fill(200));
    const sa = await adminJson(a.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(sa.store).toBe("upstash");
    expect(sa.stats.total_requests).toBe(7);
    await settle(a.fetch, b.fetch);
    for (const w of [a, b]) {
      const { fleet } = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
      expect(fleet).toMatchObject({ date, allowed: 12, denied: 0, total_requests: 12 });
      expect(fleet!.cache_hits + fleet!.cache_misses).toBe(12);
      expect(fleet!.redis_calls).toBeGreaterThanOrEqual(fleet!.cache_misses);
    }
  });

  it("lists the day's usage of tenants served by both isolates, paged over the HSCAN shards exactly once", async () => {
    const { clock, date } = freshClock();
    const a = upstashWorker(clock);
    const b = upstashWorker(clock);
    const tenants = Array.from({ length: 40 }, (_, i) => `${RUN}-u${String(i).padStart(2, "0")}`);
    for (const [i, t] of tenants.entries()) await traffic(t, 1 + (i % 3), (i % 2 ? a : b).fetch);
    await settle(a.fetch, b.fetch);

    const seen = new Map<string, number | "EXCEEDED">();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `cursor=${cursor}` : `date_str=${date}`;
      const body = await adminJson(b.fetch, `/admin/quota/usage?limit=7&${qs}`, usageResponseSchema);
      pages++;
      expect(body.date).toBe(date);
      expect(body.statistics.total_tenants).toBe(40);
      expect(body.statistics.returned).toBeLessThanOrEqual(7);
      for (const [t, units] of Object.entries(body.tenants)) {
        expect(seen.has(t), `${t} listed twice`).toBe(false);
        seen.set(t, units);
      }
      cursor = body.next_cursor;
    } while (cursor !== null && pages < 20);
    expect(pages).toBeGreaterThanOrEqual(6);
    expect([...seen.keys()].sort()).toEqual(tenants);
    for (const [i, t] of tenants.entries()) expect(seen.get(t)).toBe(1 + (i % 3));
  });

  it("a reset through one isolate frees the tenant there at once, and in the other once its cached denial expires", async () => {
    const { clock } = freshClock();
    const policy = policyJson({ tiers: { free: { limits: [{ window: "day", limit: 3 }] } } });
    const a = upstashWorker(clock, { QUOTA_POLICY: policy });
    const b = upstashWorker(clock, { QUOTA_POLICY: policy });
    const tenant = `${RUN}-reset`;
    expect(await traffic(tenant, 3, a.fetch)).toEqual([200, 200, 200]);
    expect(await traffic(tenant, 1, b.fetch)).toEqual([429]); // B caches the denial
    expect(await traffic(tenant, 1, a.fetch)).toEqual([429]);

    const body = await adminJson(
      a.fetch,
      `/admin/tenants/${tenant}/reset`,
      tenantResetResponseSchema,
      adminInit("POST"),
    );
    expect(body.reset).toEqual(["requests-day"]);
    const view = await adminJson(b.fetch, `/admin/tenants/${tenant}`, tenantViewResponseSchema);
    expect(view.limits[0]).toMatchObject({ used: 0, remaining: 3 });

    expect(await traffic(tenant, 1, a.fetch)).toEqual([200]);
    expect(await traffic(tenant, 1, b.fetch)).toEqual([429]); // B's cached denial holds for up to QUOTA_CACHE_TTL
    clock.advance(61_000);
    expect(await traffic(tenant, 3, b.fetch)).toEqual([200, 200, 429]); // 1 spent by A + 2 by B = 3
  });
});
