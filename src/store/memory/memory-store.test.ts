// MemoryStore, directly: acquire/flush/read/reset, tenant records, usage paging across shards, usageSize and stats.
// (The shared store contract suite covers the common ground; these are the memory store's own cases.)
import { describe, expect, it } from "vitest";
import type { LimitSpec, WindowSpec } from "../../core/quota.ts";
import { shardOf, USAGE_SHARDS } from "../keys.ts";
import { MemoryStore } from "./memory-store.ts";

const NOW = Date.parse("2026-11-23T12:47:30Z");
const MINUTE_ID = "202611231247";

const limit = (window: WindowSpec, amount: number, dimension = "requests"): LimitSpec => ({
  id: `${dimension}:${JSON.stringify(window)}`,
  name: dimension,
  dimension,
  window,
  limit: amount,
  mode: "enforce",
  sync: "strict",
});
const perMinute = limit({ kind: "fixed", unit: "minute" }, 10);
const perDay = limit({ kind: "fixed", unit: "day" }, 100);

async function usageOf(store: MemoryStore, l: LimitSpec, periodId: string, count = 7) {
  const out = new Map<string, number>();
  let cursor = "0";
  let pages = 0;
  do {
    const page = await store.scanUsage(l, periodId, cursor, count);
    expect(page.entries.length).toBeLessThanOrEqual(count);
    for (const [t, n] of page.entries) {
      expect(out.has(t), `tenant ${t} listed twice`).toBe(false);
      out.set(t, n);
    }
    cursor = page.cursor;
    expect(++pages).toBeLessThan(10_000);
  } while (cursor !== "0");
  return out;
}

describe("MemoryStore", () => {
  it("acquires all or nothing, and a denial leaves the counters untouched", async () => {
    const store = new MemoryStore();
    const ok = await store.acquire(
      "t_1",
      [
        { limit: perMinute, min: 1, want: 8 },
        { limit: perDay, min: 1, want: 8 },
      ],
      NOW,
    );
    expect(ok.ok).toBe(true);
    expect(ok.items.map((i) => [i.granted, i.available, i.periodId])).toEqual([
      [8, 2, MINUTE_ID],
      [8, 92, "20261123"],
    ]);
    const denied = await store.acquire(
      "t_1",
      [
        { limit: perMinute, min: 3, want: 3 },
        { limit: perDay, min: 1, want: 1 },
      ],
      NOW,
    );
    expect(denied.ok).toBe(false);
    expect(denied.items.map((i) => i.granted)).toEqual([0, 0]);
    expect((await store.read("t_1", [perMinute, perDay], NOW)).map((r) => r.used)).toEqual([8, 8]);
  });

  it("keeps tenants apart", async () => {
    const store = new MemoryStore();
    await store.acquire("t_1", [{ limit: perMinute, min: 10, want: 10 }], NOW);
    const other = await store.acquire("t_2", [{ limit: perMinute, min: 10, want: 10 }], NOW);
    expect(other.ok).toBe(true);
  });

  it("a new period starts from zero", async () => {
    const store = new MemoryStore();
    await store.acquire("t_1", [{ limit: perMinute, min: 10, want: 10 }], NOW);
    expect((await store.acquire("t_1", [{ limit: perMinute, min: 1, want: 1 }], NOW)).ok).toBe(false);
    const next = await store.acquire("t_1", [{ limit: perMinute, min: 1, want: 1 }], NOW + 30_000);
    expect(next.ok).toBe(true);
    expect(next.items[0]!.periodId).toBe("202611231248");
  });

  it("flush applies many tenants' deltas in order and returns the counters after", async () => {
    const store = new MemoryStore();
    await store.acquire("t_1", [{ limit: perMinute, min: 6, want: 6 }], NOW);
    const after = await store.flush({
      deltas: [
        { tenant: "t_1", limit: perMinute, periodId: MINUTE_ID, units: -4 },
        { tenant: "t_2", limit: perMinute, periodId: MINUTE_ID, units: 3 },
        { tenant: "t_1", limit: perMinute, periodId: MINUTE_ID, units: -5 }, // clamps at 0
      ],
      nowMs: NOW,
    });
    expect(after).toEqual([2, 3, 0]);
    expect(Object.fromEntries(await usageOf(store, perMinute, MINUTE_ID))).toEqual({ t_1: 0, t_2: 3 });
  });

  it("a late flush lands in the period it names, not the current one", async () => {
    const store = new MemoryStore();
    await store.acquire("t_1", [{ limit: perMinute, min: 5, want: 5 }], NOW);
    await store.flush({
      deltas: [{ tenant: "t_1", limit: perMinute, periodId: MINUTE_ID, units: -5 }],
      nowMs: NOW + 120_000,
    });
    expect((await usageOf(store, perMinute, MINUTE_ID)).get("t_1")).toBe(0);
    expect((await usageOf(store, perMinute, "202611231249")).size).toBe(0);
  });

  it("a return to a counter that is gone (expired period, admin reset) writes nothing, as in the Lua script", async () => {
    const store = new MemoryStore();
    await store.acquire("t_1", [{ limit: perMinute, min: 2, want: 2 }], NOW);
    const after = await store.flush({
      deltas: [
        { tenant: "t_2", limit: perMinute, periodId: MINUTE_ID, units: -2 },
        { tenant: "t_1", limit: perMinute, periodId: "202611231200", units: -2 },
        { tenant: "t_3", limit: perMinute, periodId: MINUTE_ID, units: 0 },
      ],
      nowMs: NOW,
    });
    expect(after).toEqual([0, 0, 0]);
    expect(Object.fromEntries(await usageOf(store, perMinute, MINUTE_ID))).toEqual({ t_1: 2 });
    expect((await usageOf(store, perMinute, "202611231200")).size).toBe(0);
    // A missing bucket is full: a return (or a zero delta) changes nothing and writes nothing.
    const bucket = limit({ kind: "bucket", rate: 1, periodMs: 1_000, burst: 5 }, 5);
    const deltas = [-2, 0].map((units) => ({ tenant: "t_1", limit: bucket, periodId: "b", units }));
    expect(await store.flush({ deltas, nowMs: NOW })).toEqual([5, 5]);
    expect(await store.usageSize(bucket, "b")).toEqual({ tenants: 0, bytes: 0 });
  });

  it("reads usage without changing it (buckets: burst minus tokens left)", async () => {
    const store = new MemoryStore();
    const bucket = limit({ kind: "bucket", rate: 1, periodMs: 1_000, burst: 10 }, 10);
    await store.acquire("t_1", [{ limit: bucket, min: 4, want: 4 }], NOW);
    const r1 = await store.read("t_1", [bucket, perMinute], NOW);
    const r2 = await store.read("t_1", [bucket, perMinute], NOW);
    expect(r1).toEqual(r2);
    expect(r1[0]).toMatchObject({ used: 4, available: 6 });
    expect(r1[1]).toEqual({ used: 0, available: 10, resetAtMs: Date.parse("2026-11-23T12:48:00Z") });
    // Two seconds later two tokens are back.
    expect((await store.read("t_1", [bucket], NOW + 2_000))[0]).toMatchObject({ used: 2, available: 8 });
  });

  it("reset forgets the current period (and a sliding window's previous bucket) of one tenant only", async () => {
    const store = new MemoryStore();
    const sliding = limit({ kind: "sliding", sizeMs: 10_000 }, 10);
    await store.acquire("t_1", [{ limit: sliding, min: 10, want: 10 }], NOW - 10_000);
    await store.acquire("t_1", [{ limit: perMinute, min: 10, want: 10 }], NOW);
    await store.acquire("t_2", [{ limit: perMinute, min: 7, want: 7 }], NOW);
    expect((await store.read("t_1", [sliding], NOW))[0]!.used).toBe(10);
    await store.reset("t_1", [perMinute, sliding], NOW);
    expect((await store.read("t_1", [perMinute, sliding], NOW)).map((r) => r.used)).toEqual([0, 0]);
    expect((await store.read("t_2", [perMinute], NOW))[0]!.used).toBe(7);
  });

  it("versions tenant records", async () => {
    const store = new MemoryStore();
    expect(await store.getTenant("t_1")).toBeNull();
    const v1 = await store.putTenant("t_1", { tier: "pro" }, NOW);
    expect(v1).toEqual({ tier: "pro", version: 1, updatedAtMs: NOW });
    const v2 = await store.putTenant("t_1", { tier: "free", overrides: { failure: "closed" } }, NOW + 5);
    expect(v2).toEqual({ tier: "free", overrides: { failure: "closed" }, version: 2, updatedAtMs: NOW + 5 });
    expect(await store.getTenant("t_1")).toEqual(v2);
  });

  it("scanUsage pages through every tenant of every shard exactly once, whatever the page size", async () => {
    const store = new MemoryStore();
    const tenants = Array.from({ length: 200 }, (_, i) => `tenant-${i}`);
    // The tenants do spread over the shards (the paging crosses shard boundaries).
    expect(new Set(tenants.map(shardOf)).size).toBe(USAGE_SHARDS);
    await store.flush({
      deltas: tenants.map((tenant, i) => ({ tenant, limit: perDay, periodId: "20261123", units: i + 1 })),
      nowMs: NOW,
    });
    for (const count of [1, 7, 13, 200, 1_000]) {
      const seen = await usageOf(store, perDay, "20261123", count);
      expect(seen.size).toBe(200);
      tenants.forEach((t, i) => {
        expect(seen.get(t)).toBe(i + 1);
      });
    }
    expect(await usageOf(store, perDay, "20261124")).toEqual(new Map());
    expect(await usageOf(store, perMinute, "20261123")).toEqual(new Map());
  });

  it("usageSize counts the tenants of one period and an estimate of their bytes", async () => {
    const store = new MemoryStore();
    await store.flush({
      deltas: ["a", "bb", "ccc"].map((tenant) => ({ tenant, limit: perDay, periodId: "20261123", units: 1 })),
      nowMs: NOW,
    });
    const size = await store.usageSize(perDay, "20261123");
    expect(size.tenants).toBe(3);
    expect(size.bytes).toBeGreaterThanOrEqual(1 + 2 + 3);
    expect(await store.usageSize(perDay, "20261122")).toEqual({ tenants: 0, bytes: 0 });
  });

  it("adds stats per day", async () => {
    const store = new MemoryStore();
    await store.flush({
      deltas: [],
      stats: { dayId: "20261123", counts: { allowed: 3, denied: 1 } },
      nowMs: NOW,
    });
    await store.flush({ deltas: [], stats: { dayId: "20261123", counts: { allowed: 2 } }, nowMs: NOW });
    await store.flush({ deltas: [], stats: { dayId: "20261124", counts: { allowed: 9 } }, nowMs: NOW });
    expect(await store.getStats("20261123")).toEqual({ allowed: 5, denied: 1 });
    expect(await store.getStats("20261122")).toEqual({});
  });

  it("sweeps periods past their retention, so memory is bounded by live periods", async () => {
    const store = new MemoryStore();
    const second = limit({ kind: "fixed", unit: "second" }, 1);
    // 2048 writes over ~34 minutes of one-second periods, then a write two hours later triggers a sweep.
    for (let i = 0; i < 2_047; i++)
      await store.acquire("t_1", [{ limit: second, min: 1, want: 1 }], NOW + i * 1_000);
    await store.acquire("t_1", [{ limit: second, min: 1, want: 1 }], NOW + 7_200_000);
    const firstId = "20261123124730";
    expect(await store.usageSize(second, firstId)).toEqual({ tenants: 0, bytes: 0 });
  });
});
