// Every key the Upstash store writes carries an expiry (usage hashes, sharer registries, bucket hashes, fleet
// stats, concurrency slot sets), so no traffic pattern leaves permanent keys behind; tenant records are the one
// permanent kind.
import IORedis from "ioredis";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { calendarPeriod } from "../src/algorithms/calendar-window.ts";
import type { LimitSpec } from "../src/core/quota.ts";
import { compileLimit } from "../src/policy/compiled-policy.ts";
import { shardOf, tenantKey, usageKey } from "../src/store/keys.ts";
import type { AcquireItem } from "../src/store/store.ts";
import { createUpstashStore, type UpstashStore } from "../src/store/upstash/upstash-store.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 30);
/** Unique per run, so the scan sees only this suite's keys (other suites share the redis-server). */
const RUN = `ttl${Date.now().toString(36)}`;
const TENANT = `${RUN}-tenant`;

const lim = (window: string, limit?: number): LimitSpec => {
  const l = compileLimit({ window, ...(limit === undefined ? {} : { limit }) });
  return { ...l, id: `${RUN}:${l.id}` };
};

const LIMITS = [
  lim("second", 100),
  lim("minute", 100),
  lim("hour", 100),
  lim("day", 100),
  lim("month", 100),
  lim("sliding:10s", 100),
  lim("bucket:6/10s,burst=20"),
];

describeWithRedis("key expiry (real Redis)", () => {
  let redis: IORedis;
  let store: UpstashStore;

  beforeAll(() => {
    redis = new IORedis(inject("redisUrl"));
    store = createUpstashStore({
      url: inject("upstashUrl"),
      token: inject("upstashToken"),
      timeoutMs: 5_000,
    });
  });
  afterAll(() => redis?.disconnect());

  /** Every key of this run with its PTTL (-1: no expiry). */
  const ttls = async (): Promise<Record<string, number>> => {
    const keys = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `*${RUN}*`, "COUNT", 1000);
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== "0");
    const out: Record<string, number> = {};
    for (const k of keys) out[k] = await redis.pttl(k);
    return out;
  };

  /** Every key expires, except tenant records: a tenant's tier and overrides are configuration, kept until
   * an operator changes them, so they are written without an expiry on purpose. */
  const expectAllExpire = async () => {
    const all = await ttls();
    const permanent = Object.entries(all).filter(([k, ttl]) => ttl <= 0 && k !== tenantKey(TENANT));
    expect(permanent).toEqual([]);
    return all;
  };

  it("ACQUIRE: usage hashes, sliding buckets, token buckets and sharer registries all expire", async () => {
    // want far above what is left, so the sharer registry is consulted and written.
    const items: AcquireItem[] = LIMITS.map((limit) => ({ limit, min: 1, want: 20 }));
    const res = await store.acquire(TENANT, items, NOW, "iso-a");
    expect(res.ok).toBe(true);
    await store.acquire(TENANT, items, NOW + 1, "iso-b");
    const all = await expectAllExpire();
    // Usage and registry keys of each limit (the sliding window's previous bucket is only read).
    expect(Object.keys(all).filter((k) => k.startsWith("qg:u:")).length).toBe(LIMITS.length);
    expect(Object.keys(all).filter((k) => k.startsWith("qg:i:")).length).toBe(LIMITS.length);
  });

  it("ADJUST: a late return to a period whose hash expired creates no key", async () => {
    const minute = LIMITS[1]!;
    const gone = calendarPeriod("minute", NOW - 20 * 60_000).id;
    const key = usageKey(minute, gone, shardOf(TENANT));
    const out = await store.flush({
      deltas: [{ tenant: TENANT, limit: minute, periodId: gone, units: -3 }],
      nowMs: NOW,
    });
    expect(out).toEqual([0]);
    expect(await redis.exists(key)).toBe(0);
    await expectAllExpire();
  });

  it("ADJUST: a return for a tenant missing from a live hash adds no field", async () => {
    const minute = LIMITS[1]!;
    const periodId = calendarPeriod("minute", NOW).id;
    // A tenant of TENANT's shard: the hash its return lands in exists (TENANT's acquire created it).
    let n = 0;
    while (shardOf(`${RUN}-other${n}`) !== shardOf(TENANT)) n++;
    const other = `${RUN}-other${n}`;
    const key = usageKey(minute, periodId, shardOf(TENANT));
    expect(await redis.exists(key)).toBe(1);
    const out = await store.flush({
      deltas: [{ tenant: other, limit: minute, periodId, units: -2 }],
      nowMs: NOW,
    });
    expect(out).toEqual([0]);
    expect(await redis.hexists(key, other)).toBe(0);
    await expectAllExpire();
  });

  it("ADJUST: counted usage, returns and bucket deltas keep every key expiring", async () => {
    const [, minute, hour, , , sliding, bucket] = LIMITS as [
      LimitSpec,
      LimitSpec,
      LimitSpec,
      LimitSpec,
      LimitSpec,
      LimitSpec,
      LimitSpec,
    ];
    const nextMinute = calendarPeriod("minute", NOW + 60_000).id;
    const fresh = `${RUN}-fresh`;
    await store.flush({
      deltas: [
        // a positive delta to a period nobody wrote yet (async counting)
        { tenant: fresh, limit: minute, periodId: nextMinute, units: 4 },
        // returns to fields that exist
        { tenant: TENANT, limit: hour, periodId: calendarPeriod("hour", NOW).id, units: -5 },
        { tenant: TENANT, limit: sliding, periodId: `s${Math.floor(NOW / 10_000)}`, units: -50 },
        // bucket: a return to an existing bucket, a return and a take on buckets nobody has drawn on
        { tenant: TENANT, limit: bucket, periodId: "b", units: -3 },
        { tenant: `${RUN}-nobucket`, limit: bucket, periodId: "b", units: -3 },
        { tenant: `${RUN}-newbucket`, limit: bucket, periodId: "b", units: 2 },
      ],
      stats: { dayId: `${RUN}day`, counts: { allowed: 3, denied: 1 } },
      nowMs: NOW + 2_000,
    });
    const all = await expectAllExpire();
    expect(all[`qg:s:${RUN}day`]).toBeGreaterThan(0);
    // A return to a bucket nobody drew on (full) writes nothing.
    expect(await redis.hexists(usageKey(bucket, "b", shardOf(`${RUN}-nobucket`)), `${RUN}-nobucket`)).toBe(0);
  });

  it("SLOTS: slot sets expire after their latest slot, and a renewal extends the set with it", async () => {
    const scopes = [
      { kind: "tenant" as const, id: `${RUN}-slots`, limit: 2 },
      { kind: "origin" as const, id: `${RUN}-origin`, limit: 5 },
    ];
    expect((await store.acquireSlots(scopes, "s1", NOW, 30_000)).ok).toBe(true);
    const all = await expectAllExpire();
    const keys = Object.keys(all).filter((k) => k.startsWith("qg:c:"));
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(all[k]).toBeGreaterThan(25_000);
    await redis.pexpire(keys[0]!, 1_000);
    expect(await store.renewSlots(scopes, "s1", NOW + 10_000, 30_000)).toBe(2);
    expect(await redis.pttl(keys[0]!)).toBeGreaterThan(25_000);
    await store.releaseSlots(scopes, "s1");
    await expectAllExpire();
  });

  it("tenant records are the only permanent keys", async () => {
    await store.putTenant(TENANT, { tier: "free" }, NOW);
    const all = await expectAllExpire();
    expect(all[tenantKey(TENANT)]).toBe(-1);
    // Reads and resets write nothing new.
    await store.read(TENANT, LIMITS, NOW + 3_000);
    await store.reset(TENANT, LIMITS, NOW + 3_000);
    await store.usageSize(LIMITS[1]!, calendarPeriod("minute", NOW).id);
    await expectAllExpire();
  });
});
