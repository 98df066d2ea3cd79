// The isolate's deny list: one store read per cache TTL (shared by concurrent requests), a change made elsewhere in
// force within the TTL, the last copy kept while the store fails, and this isolate's own changes applied at once.
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import type { DenyEntry } from "../core/deny.ts";
import { Metrics } from "../metrics/metrics.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the deny list over a concrete store
import { createMemoryStore } from "../store/memory/memory-store.ts";
import type { Store } from "../store/store.ts";
import { DenyList } from "./deny-list.ts";

const TTL = 60_000;

/** A memory store shared by "isolates", counting deny-list reads and failing them on demand. */
function sharedStore() {
  const inner = createMemoryStore();
  const s = { reads: 0, failing: false };
  const store: Store = Object.assign(Object.create(inner), {
    getDenyList: async () => {
      s.reads++;
      if (s.failing) throw new Error("connection refused");
      return inner.getDenyList();
    },
  });
  return { store, s };
}

const isolate = (store: Store, clock = createFakeClock()) => {
  const metrics = new Metrics();
  return {
    list: new DenyList({ store, clock, metrics, cacheTtlMs: TTL, storeTimeoutMs: 1_000 }),
    clock,
    metrics,
  };
};

const tenantEntry = (value: string): DenyEntry => ({ kind: "tenant", value, createdAtMs: 0 });

describe("DenyList", () => {
  it("reads the store once per TTL, one read for concurrent requests", async () => {
    const { store, s } = sharedStore();
    const { list, clock } = isolate(store);
    await Promise.all([list.rules(), list.rules(), list.rules()]);
    expect(s.reads).toBe(1);
    for (let i = 0; i < 100; i++) await list.rules();
    clock.advance(TTL - 1);
    await list.rules();
    expect(s.reads).toBe(1);
    clock.advance(1);
    await list.rules();
    expect(s.reads).toBe(2);
  });

  it("applies a change made by another isolate within the TTL, and its own at once", async () => {
    const { store } = sharedStore();
    const clock = createFakeClock();
    const a = isolate(store, clock).list;
    const b = isolate(store, clock).list;
    expect((await a.rules()).matchTenant("evil")).toBeNull();
    await b.add("tenant", "evil", "abuse");
    expect((await b.rules()).matchTenant("evil")?.reason).toBe("abuse");
    clock.advance(TTL - 1);
    expect((await a.rules()).matchTenant("evil")).toBeNull();
    clock.advance(1);
    expect((await a.rules()).matchTenant("evil")?.kind).toBe("tenant");
    expect(await b.remove("tenant", "evil")).toBe(true);
    expect((await b.rules()).matchTenant("evil")).toBeNull();
    expect(await b.remove("tenant", "evil")).toBe(false);
  });

  it("keeps the last copy while the store fails and asks again after a few seconds", async () => {
    const { store, s } = sharedStore();
    await store.putDeny(tenantEntry("evil"));
    const { list, clock, metrics } = isolate(store);
    expect((await list.rules()).matchTenant("evil")).not.toBeNull();
    s.failing = true;
    clock.advance(TTL);
    expect((await list.rules()).matchTenant("evil")).not.toBeNull();
    expect(metrics.total("quotagate_store_errors_total", { op: "deny" })).toBe(1);
    clock.advance(4_999);
    await list.rules();
    expect(s.reads).toBe(2);
    s.failing = false;
    clock.advance(1);
    await list.rules();
    expect(s.reads).toBe(3);
    expect(metrics.total("quotagate_store_calls_total", { op: "deny" })).toBe(3);
  });

  it("denies nothing when the store has never answered", async () => {
    const { store, s } = sharedStore();
    await store.putDeny(tenantEntry("evil"));
    s.failing = true;
    const { list } = isolate(store);
    expect((await list.rules()).size).toBe(0);
  });

  it("fails admin operations with store_unavailable, never quoting the store", async () => {
    const { store, s } = sharedStore();
    s.failing = true;
    const { list } = isolate(store);
    await expect(list.list()).rejects.toMatchObject({ code: "store_unavailable" });
    await expect(list.list()).rejects.not.toThrow(/refused/);
  });
});
