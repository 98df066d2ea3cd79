// The Store contract: one suite every store implementation runs (MemoryStore in unit tests, UpstashStore through
// the local Upstash-compatible server on a real redis-server in integration tests).
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import type { DenyEntry } from "../core/deny.ts";
import type { LimitSpec } from "../core/quota.ts";
// biome-ignore lint/style/noRestrictedImports: the suite builds its limits the way the policy does; the stores do not
import { compileLimit } from "../policy/compiled-policy.ts";
import type { SlotScope, Store } from "./store.ts";

export interface StoreHarness {
  store: Store;
}

const T0 = Date.UTC(2026, 10, 23, 12, 0, 10); // 10 s into a minute
const lim = (window: string, limit?: number, extra: Partial<LimitSpec> = {}): LimitSpec => ({
  ...compileLimit({ window, ...(limit === undefined ? {} : { limit }) }),
  ...extra,
});

let seq = 0;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
/** A tenant id no other test (or earlier run against the same Redis) has used. */
const tenant = (label: string) => `ct-${label}-${Date.now().toString(36)}-${seq++}`;

export function describeStoreContract(name: string, make: () => StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    it("grants between min and want and counts the grant", async () => {
      const { store } = make();
      const t = tenant("grant");
      const minute = lim("minute", 10);
      const r1 = await store.acquire(t, [{ limit: minute, min: 1, want: 4 }], T0);
      expect(r1.ok).toBe(true);
      expect(r1.items[0]).toMatchObject({ granted: 4, available: 6 });
      const r2 = await store.acquire(t, [{ limit: minute, min: 2, want: 100 }], T0);
      expect(r2.items[0]).toMatchObject({ granted: 6, available: 0 });
      const r3 = await store.acquire(t, [{ limit: minute, min: 1, want: 1 }], T0);
      expect(r3.ok).toBe(false);
      expect(r3.items[0]!.granted).toBe(0);
      expect(r3.items[0]!.retryAtMs).toBe(Date.UTC(2026, 10, 23, 12, 1, 0));
    });

    it("is all or nothing across limits: a denial consumes nothing", async () => {
      const { store } = make();
      const t = tenant("aon");
      const minute = lim("minute", 5);
      const day = lim("day", 100);
      const bucket = lim("bucket:1/s,burst=3");
      await store.acquire(t, [{ limit: minute, min: 5, want: 5 }], T0);
      const before = await store.read(t, [minute, day, bucket], T0);
      const denied = await store.acquire(
        t,
        [
          { limit: day, min: 1, want: 10 },
          { limit: minute, min: 1, want: 1 },
          { limit: bucket, min: 1, want: 2 },
        ],
        T0,
      );
      expect(denied.ok).toBe(false);
      expect(denied.items.map((i) => i.granted)).toEqual([0, 0, 0]);
      expect(await store.read(t, [minute, day, bucket], T0)).toEqual(before);
    });

    it("keeps tenants apart", async () => {
      const { store } = make();
      const a = tenant("a");
      const b = tenant("b");
      const minute = lim("minute", 3);
      await store.acquire(a, [{ limit: minute, min: 3, want: 3 }], T0);
      const rb = await store.acquire(b, [{ limit: minute, min: 1, want: 1 }], T0);
      expect(rb.ok).toBe(true);
      expect(rb.items[0]!.available).toBe(2);
    });

    it("resets a calendar window at its boundary", async () => {
      const { store } = make();
      const t = tenant("cal");
      const minute = lim("minute", 2);
      await store.acquire(t, [{ limit: minute, min: 2, want: 2 }], T0);
      expect((await store.acquire(t, [{ limit: minute, min: 1, want: 1 }], T0 + 49_999)).ok).toBe(false);
      const next = await store.acquire(t, [{ limit: minute, min: 1, want: 1 }], T0 + 50_000);
      expect(next.ok).toBe(true);
      expect(next.items[0]!.periodId).toBe("202611231201");
    });

    it("weights the previous sliding bucket by its overlap", async () => {
      const { store } = make();
      const t = tenant("sliding");
      const sliding = lim("sliding:1m", 10);
      const start = Date.UTC(2026, 10, 23, 12, 0, 0);
      await store.acquire(t, [{ limit: sliding, min: 8, want: 8 }], start + 1_000);
      // Half-way into the next bucket, 4 of the 8 still count.
      const r = await store.read(t, [sliding], start + 90_000);
      expect(r[0]!.available).toBe(6);
      const denied = await store.acquire(t, [{ limit: sliding, min: 7, want: 7 }], start + 90_000);
      expect(denied.ok).toBe(false);
      // 7 fit once ceil(8 * (60 - e) / 60) <= 3, i.e. e >= 37.5 s into the bucket.
      expect(denied.items[0]!.retryAtMs).toBe(start + 60_000 + 37_500);
      expect((await store.acquire(t, [{ limit: sliding, min: 7, want: 7 }], start + 97_500)).ok).toBe(true);
    });

    it("refills a token bucket up to its burst and never above", async () => {
      const { store } = make();
      const t = tenant("bucket");
      const bucket = lim("bucket:2/s,burst=4");
      const r1 = await store.acquire(t, [{ limit: bucket, min: 4, want: 4 }], T0);
      expect(r1.items[0]).toMatchObject({ granted: 4, available: 0 });
      const denied = await store.acquire(t, [{ limit: bucket, min: 1, want: 1 }], T0 + 100);
      expect(denied.ok).toBe(false);
      expect(denied.items[0]!.retryAtMs).toBe(T0 + 500);
      expect((await store.read(t, [bucket], T0 + 1_000))[0]!.available).toBe(2);
      expect((await store.read(t, [bucket], T0 + 60_000))[0]!.available).toBe(4);
      // Returning more than was taken still leaves the bucket at its burst.
      await store.flush({
        deltas: [{ tenant: t, limit: bucket, periodId: "b", units: -10 }],
        nowMs: T0 + 60_000,
      });
      expect((await store.read(t, [bucket], T0 + 60_000))[0]!.available).toBe(4);
    });

    it("counts shadow limits past their limit without denying", async () => {
      const { store } = make();
      const t = tenant("shadow");
      const shadow = lim("minute", 2, { mode: "shadow" });
      const enforce = lim("day", 100);
      for (let i = 0; i < 3; i++) {
        const r = await store.acquire(
          t,
          [
            { limit: shadow, min: 1, want: 1 },
            { limit: enforce, min: 1, want: 1 },
          ],
          T0,
        );
        expect(r.ok).toBe(true);
      }
      const last = await store.acquire(t, [{ limit: shadow, min: 1, want: 1 }], T0);
      expect(last.items[0]!.available).toBe(-1); // past the limit: below 0, what it would have denied
      const page = await store.scanUsage(shadow, "202611231200", "0", 1_000);
      expect(page.entries.find(([id]) => id === t)?.[1]).toBe(4);
    });

    it("refuses a cost above the limit with no retry time", async () => {
      const { store } = make();
      const r = await store.acquire(tenant("huge"), [{ limit: lim("minute", 5), min: 6, want: 6 }], T0);
      expect(r.ok).toBe(false);
      expect(r.items[0]!.retryAtMs).toBe(Number.POSITIVE_INFINITY);
    });

    it("applies flushed deltas, never below zero, and sums fleet stats", async () => {
      const { store } = make();
      const t = tenant("flush");
      const minute = lim("minute", 10);
      await store.acquire(t, [{ limit: minute, min: 6, want: 6 }], T0);
      const out = await store.flush({
        deltas: [
          { tenant: t, limit: minute, periodId: "202611231200", units: -4 },
          { tenant: t, limit: minute, periodId: "202611231200", units: -5 },
        ],
        stats: { dayId: "20261123", counts: { allowed: 3, denied: 1 } },
        nowMs: T0,
      });
      expect(out).toEqual([2, 0]);
      expect((await store.read(t, [minute], T0))[0]!.available).toBe(10);
      const dayId = `c${seq++}${Date.now()}`;
      await store.flush({ deltas: [], stats: { dayId, counts: { allowed: 2 } }, nowMs: T0 });
      await store.flush({ deltas: [], stats: { dayId, counts: { allowed: 5, denied: 1 } }, nowMs: T0 });
      expect(await store.getStats(dayId)).toEqual({ allowed: 7, denied: 1 });
    });

    it("reads without changing, and reset forgets the current periods", async () => {
      const { store } = make();
      const t = tenant("reset");
      const minute = lim("minute", 10);
      const sliding = lim("sliding:1h", 10);
      await store.acquire(
        t,
        [
          { limit: minute, min: 3, want: 3 },
          { limit: sliding, min: 4, want: 4 },
        ],
        T0,
      );
      const r = await store.read(t, [minute, sliding], T0);
      expect(r.map((x) => x.used)).toEqual([3, 4]);
      expect(await store.read(t, [minute, sliding], T0)).toEqual(r);
      await store.reset(t, [minute, sliding], T0);
      expect((await store.read(t, [minute, sliding], T0)).map((x) => x.used)).toEqual([0, 0]);
    });

    it("stores tenant records with a version that grows", async () => {
      const { store } = make();
      const t = tenant("rec");
      expect(await store.getTenant(t)).toBeNull();
      const clock = createFakeClock(T0);
      const v1 = await store.putTenant(t, { tier: "pro" }, clock.now());
      const v2 = await store.putTenant(
        t,
        { tier: "enterprise", overrides: { limits: [{ dimension: "requests", window: "day", limit: 5 }] } },
        clock.now(),
      );
      expect(v2.version).toBe(v1.version + 1);
      expect(await store.getTenant(t)).toEqual({
        tier: "enterprise",
        overrides: { limits: [{ dimension: "requests", window: "day", limit: 5 }] },
        version: v2.version,
        updatedAtMs: T0,
      });
    });

    it("keeps a deny list: read whole, put replaces, delete removes once", async () => {
      const { store } = make();
      const t = tenant("deny");
      const n = seq++ % 250;
      const hash = (await sha256(t)).toLowerCase();
      const mine = (list: DenyEntry[]) =>
        list.filter((e) => e.value === t || e.value === hash || e.value === `2001:db8:${n}::/48`);
      const entries: DenyEntry[] = [
        { kind: "tenant", value: t, reason: "abuse", createdAtMs: T0 },
        { kind: "key", value: hash, createdAtMs: T0 + 1 },
        { kind: "ip", value: `2001:db8:${n}::/48`, reason: "scraper", createdAtMs: T0 + 2 },
      ];
      for (const e of entries) await store.putDeny(e);
      const byValue = (a: DenyEntry, b: DenyEntry) => a.value.localeCompare(b.value);
      expect(mine(await store.getDenyList()).sort(byValue)).toEqual([...entries].sort(byValue));
      await store.putDeny({ kind: "tenant", value: t, reason: "still abuse", createdAtMs: T0 + 5 });
      expect(mine(await store.getDenyList()).find((e) => e.kind === "tenant")).toEqual({
        kind: "tenant",
        value: t,
        reason: "still abuse",
        createdAtMs: T0 + 5,
      });
      // The same value under another kind is another entry.
      expect(await store.deleteDeny("key", t)).toBe(false);
      for (const e of entries) expect(await store.deleteDeny(e.kind, e.value)).toBe(true);
      expect(await store.deleteDeny("ip", `2001:db8:${n}::/48`)).toBe(false);
      expect(mine(await store.getDenyList())).toEqual([]);
    });

    it("pages through a period's usage exactly once across shards", async () => {
      const { store } = make();
      const day = lim("day", 1_000, { id: `requests:day-${seq++}-${Date.now()}` });
      const ids = Array.from({ length: 250 }, (_, i) => `page-${i}`);
      for (const id of ids) await store.acquire(id, [{ limit: day, min: 1, want: 1 + (id.length % 3) }], T0);
      const seen: string[] = [];
      let cursor = "0";
      let pages = 0;
      do {
        const page = await store.scanUsage(day, "20261123", cursor, 37);
        seen.push(...page.entries.map(([id]) => id));
        cursor = page.cursor;
        pages++;
      } while (cursor !== "0" && pages < 1_000);
      expect(seen.sort()).toEqual([...ids].sort());
      expect((await store.usageSize(day, "20261123")).tenants).toBe(250);
    });

    it("holds at most `limit` slots per scope, all or nothing across scopes", async () => {
      const { store } = make();
      const t: SlotScope = { kind: "tenant", id: tenant("slots"), limit: 2 };
      const o: SlotScope = { kind: "origin", id: tenant("origin"), limit: 3 };
      expect((await store.acquireSlots([t, o], "a", T0, 30_000)).ok).toBe(true);
      expect(await store.acquireSlots([t, o], "b", T0 + 1, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 2 }, { inUse: 2 }],
      });
      // The tenant is full: nothing is taken in the origin scope either.
      expect(await store.acquireSlots([t, o], "c", T0 + 2, 30_000)).toEqual({
        ok: false,
        scopes: [{ inUse: 2 }, { inUse: 2 }],
      });
      expect((await store.acquireSlots([o], "d", T0 + 3, 30_000)).ok).toBe(true);
      expect((await store.acquireSlots([o], "e", T0 + 4, 30_000)).ok).toBe(false);
    });

    it("does not count a resent acquire twice, and release frees at once (idempotent)", async () => {
      const { store } = make();
      const t: SlotScope = { kind: "tenant", id: tenant("resend"), limit: 1 };
      expect((await store.acquireSlots([t], "a", T0, 30_000)).ok).toBe(true);
      expect((await store.acquireSlots([t], "a", T0 + 5, 30_000)).ok).toBe(true);
      expect((await store.acquireSlots([t], "b", T0 + 5, 30_000)).ok).toBe(false);
      await store.releaseSlots([t], "a");
      await store.releaseSlots([t], "a");
      expect(await store.acquireSlots([t], "b", T0 + 6, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 1 }],
      });
    });

    it("counts a slot id taken again after its expiry as new, and a live one once", async () => {
      const { store } = make();
      const o: SlotScope = { kind: "origin", id: tenant("again"), limit: 2 };
      await store.acquireSlots([o], "x", T0, 30_000);
      expect(await store.acquireSlots([o], "x", T0 + 1_000, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 1 }],
      });
      expect(await store.acquireSlots([o], "y", T0 + 40_000, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 1 }],
      });
      expect(await store.acquireSlots([o], "x", T0 + 40_000, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 2 }],
      });
      expect((await store.acquireSlots([o], "z", T0 + 40_000, 30_000)).ok).toBe(false);
    });

    it("gives a slot back once its expiry passes, unless its holder renewed it", async () => {
      const { store } = make();
      const o: SlotScope = { kind: "origin", id: tenant("expiry"), limit: 2 };
      await store.acquireSlots([o], "dead", T0, 30_000);
      await store.acquireSlots([o], "alive", T0, 30_000);
      expect(await store.renewSlots([o], "alive", T0 + 20_000, 30_000)).toBe(1);
      expect((await store.acquireSlots([o], "new", T0 + 29_999, 30_000)).ok).toBe(false);
      // At T0 + 30 s the slot nobody renewed is gone; the renewed one holds until T0 + 50 s.
      expect(await store.acquireSlots([o], "new", T0 + 30_000, 30_000)).toEqual({
        ok: true,
        scopes: [{ inUse: 2 }],
      });
      // A renewal after the expiry finds nothing to extend.
      expect(await store.renewSlots([o], "dead", T0 + 30_000, 30_000)).toBe(0);
    });
  });
}
