// The admin usage listing on real Redis (UpstashStore through the local Upstash server): 100,000 tenants in one day,
// paged with the same code GET /admin/quota/usage runs, every tenant exactly once, with exact page sizes.
import IORedis from "ioredis";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { dayIdFromDate } from "../src/algorithms/calendar-window.ts";
import {
  decodeUsageCursor,
  listUsagePage,
  type UsageCursor,
  usageReport,
} from "../src/limiter/usage-report.ts";
import { compileLimit } from "../src/policy/compiled-policy.ts";
import { shardOf, USAGE_SHARDS, usageKey } from "../src/store/keys.ts";
import type { Store } from "../src/store/store.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const TENANTS = 100_000;
/** A day no other suite touches. */
const DATE = "2040-02-29";
const PERIOD = dayIdFromDate(DATE)!;
const LIMIT = compileLimit({ dimension: "requests", window: "day", limit: 1 });
/** The default tier's day limit as the route would apply it, and a higher one for "cached" tenants. */
const DEFAULT_CAP = 1_000;
const CACHED_CAP = 2_000;

/** Tenant ids that do not sort like their index, and units that put some tenants at or over the limit. */
const tenantOf = (i: number) => `t-${((i * 2_654_435_761) >>> 0).toString(36)}-${i}`;
const unitsOf = (i: number) => 1 + ((i * 7) % 1_500);
const capOf = (i: number) => (i % 10 === 0 ? CACHED_CAP : DEFAULT_CAP);

describeWithRedis(`usage listing over ${TENANTS.toLocaleString("en")} tenants`, () => {
  let redis: IORedis;
  let store: Store;
  const expected = new Map<string, { units: number; cap: number }>();

  beforeAll(async () => {
    redis = new IORedis(inject("redisUrl"));
    store = createUpstashStore({
      url: inject("upstashUrl"),
      token: inject("upstashToken"),
      timeoutMs: 10_000,
    });
    // Seeded straight into the day's shard hashes, as the flush script would leave them.
    for (let start = 0; start < TENANTS; start += 10_000) {
      const p = redis.pipeline();
      for (let i = start; i < Math.min(TENANTS, start + 10_000); i++) {
        const t = tenantOf(i);
        expected.set(t, { units: unitsOf(i), cap: capOf(i) });
        p.hset(usageKey(LIMIT, PERIOD, shardOf(t)), t, unitsOf(i));
      }
      await p.exec();
    }
  });

  afterAll(async () => {
    if (!redis) return;
    await redis.del(...Array.from({ length: USAGE_SHARDS }, (_, s) => usageKey(LIMIT, PERIOD, s)));
    redis.disconnect();
  });

  it("GET /admin/quota/usage's listing returns every tenant exactly once, 1,000 a page, with the right figures", async () => {
    const caps = new Map([...expected].map(([t, e]) => [t, e.cap]));
    const seen = new Map<string, number | "EXCEEDED">();
    let cursor: UsageCursor | null = null;
    let pages = 0;
    let resumedInsideABatch = 0;
    let exceeded = 0;
    do {
      const page = await usageReport(store, {
        limit: LIMIT,
        date: DATE,
        pageSize: 1_000,
        cursor,
        dayLimitOf: (t) => caps.get(t),
      });
      pages++;
      expect(page.statistics.total_tenants).toBe(TENANTS);
      expect(page.statistics.returned).toBe(Object.keys(page.tenants).length);
      expect(page.statistics.returned).toBeLessThanOrEqual(1_000);
      expect(page.statistics.truncated).toBe(page.next_cursor !== null);
      exceeded += page.statistics.exceeded_tenants;
      for (const [t, v] of Object.entries(page.tenants)) {
        if (seen.has(t)) throw new Error(`${t} listed twice (page ${pages})`);
        seen.set(t, v);
      }
      // The cursor travels as the opaque string the route hands out.
      cursor = page.next_cursor === null ? null : decodeUsageCursor(page.next_cursor);
      if (page.next_cursor !== null) expect(cursor, page.next_cursor).not.toBeNull();
      if (cursor?.a !== undefined) resumedInsideABatch++;
    } while (cursor !== null && pages < 1_000);

    expect(seen.size).toBe(TENANTS);
    // Pages are full but for the last ones: a page ends early only when the store has nothing more to give.
    expect(pages).toBeGreaterThanOrEqual(100);
    expect(pages).toBeLessThanOrEqual(102);
    // HSCAN's COUNT is a hint: batches overflow a page, and the next page resumes inside the batch.
    expect(resumedInsideABatch).toBeGreaterThan(0);
    let wantExceeded = 0;
    for (const [t, e] of expected) {
      const over = e.units >= e.cap;
      if (over) wantExceeded++;
      expect(seen.get(t), t).toBe(over ? "EXCEEDED" : e.units);
    }
    expect(exceeded).toBe(wantExceeded);
    expect(wantExceeded).toBeGreaterThan(10_000);
  });

  it.each([1, 333, 1_000])("pages of %i from any store batch size hold exactly that many", async (size) => {
    // A page size of 1 over a 100,000-tenant day would take 100,000 calls: walk the first 300 pages only.
    const maxPages = size === 1 ? 300 : 1_000;
    const seen = new Set<string>();
    let from: UsageCursor | null = null;
    let pages = 0;
    do {
      const page = await listUsagePage(store, LIMIT, PERIOD, size, from);
      pages++;
      if (page.next !== null) expect(page.entries).toHaveLength(size);
      for (const [t, units] of page.entries) {
        if (seen.has(t)) throw new Error(`${t} listed twice`);
        seen.add(t);
        expect(units).toBe(expected.get(t)!.units);
      }
      from = page.next;
    } while (from !== null && pages < maxPages);
    expect(seen.size).toBe(size === 1 ? 300 : TENANTS);
  });
});
