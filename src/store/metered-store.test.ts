// The metered store: each call's Redis commands counted by operation, as the scripts spend them (reads, sharer
// registry, grants), a failed call counting nothing, and every call passed through unchanged.
import { describe, expect, it } from "vitest";
import type { LimitSpec } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
// biome-ignore lint/style/noRestrictedImports: the suite builds its limits the way the policy does; the stores do not
import { compileLimit } from "../policy/compiled-policy.ts";
import { createMemoryStore } from "./memory/memory-store.ts";
import { meteredStore } from "./metered-store.ts";
import type { Store } from "./store.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 10);
const lim = (window: string, limit?: number): LimitSpec =>
  compileLimit({ window, ...(limit === undefined ? {} : { limit }) });

function metered(inner: Store = createMemoryStore()) {
  const metrics = new Metrics();
  return {
    store: meteredStore(inner, metrics),
    commands: (op?: string) => metrics.total("quotagate_store_commands_total", op ? { op } : {}),
  };
}

describe("meteredStore", () => {
  it("counts an acquire's commands: EVALSHA, takes, sharer registry, give-backs", async () => {
    const { store, commands } = metered();
    const minute = lim("minute", 2);
    const sliding = lim("sliding:1h", 100);
    const r = await store.acquire(
      "t",
      [
        { limit: minute, min: 1, want: 2 },
        { limit: sliding, min: 1, want: 1 },
      ],
      T0,
      "iso-a",
    );
    expect(r.ok).toBe(true);
    // 1 + minute (1 take + 2 sharers: a lease a split could cut) + sliding (1 read + 1 take; want = min: no registry)
    expect(commands("acquire")).toBe(6);
    const refused = await store.acquire("t", [{ limit: minute, min: 1, want: 1 }], T0);
    expect(refused.ok).toBe(false);
    expect(commands("acquire")).toBe(9); // 1 + the take + its give-back, no registry
    const partial = await store.acquire("u", [{ limit: minute, min: 1, want: 5 }], T0);
    expect(partial.items[0]!.granted).toBe(2);
    expect(commands("acquire")).toBe(9 + 3); // 1 + the take + the give-back of what was over the limit, no caller
  });

  it("counts flushes (deltas script and stats), reads and fixed-cost calls by operation", async () => {
    const { store, commands } = metered();
    const minute = lim("minute", 10);
    await store.acquire("t", [{ limit: minute, min: 3, want: 3 }], T0);
    await store.flush({
      deltas: [{ tenant: "t", limit: minute, periodId: "202611231200", units: -1 }],
      stats: { dayId: "20261123", counts: { allowed: 2, denied: 0, store_calls: 1 } },
      nowMs: T0,
    });
    expect(commands("flush")).toBe(3 + 3); // EVALSHA + read/write of one delta; 2 HINCRBY + EXPIRE
    await store.flush({ deltas: [], nowMs: T0 });
    expect(commands("flush")).toBe(6);
    expect((await store.read("t", [minute], T0))[0]!.used).toBe(2);
    expect(commands("read")).toBe(2);
    await store.getTenant("t");
    await store.putTenant("t", { tier: "pro" }, T0);
    await store.getDenyList();
    expect([commands("get_tenant"), commands("put_tenant"), commands("get_deny_list")]).toEqual([1, 4, 1]);
    expect(store.locality).toBe("memory");
  });

  it("counts nothing for a call that fails", async () => {
    const failing = Object.assign(Object.create(createMemoryStore()), {
      getTenant: async () => {
        throw new Error("down");
      },
    }) as Store;
    const { store, commands } = metered(failing);
    await expect(store.getTenant("t")).rejects.toThrow("down");
    expect(commands()).toBe(0);
  });
});
