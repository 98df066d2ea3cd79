// Differential test: one random sequence of (time, tenant, costs) through the TypeScript algorithms (MemoryStore)
// and through the Lua scripts on real Redis (UpstashStore) must give identical decisions and states.
import fc from "fast-check";
import { expect, inject, it } from "vitest";
import type { LimitSpec } from "../src/core/quota.ts";
import { compileLimit } from "../src/policy/compiled-policy.ts";
import { createMemoryStore } from "../src/store/memory/memory-store.ts";
import type { AcquireItem } from "../src/store/store.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

type Op =
  | {
      kind: "acquire";
      advanceMs: number;
      tenant: number;
      caller: number;
      items: Array<{ limit: number; min: number; want: number }>;
    }
  | { kind: "return"; advanceMs: number; tenant: number; limit: number; units: number };

describeWithRedis("Lua scripts match the TypeScript algorithms", () => {
  // Shrunk from the acquisition property test: 6 per 10 s, burst 1, emptied at T0, written again at T0 + 6 (a
  // zero delta brings it up to date), looked at T0 + 54. The token is whole at T0 + 1666 2/3 ms: both stores answer
  // T0 + 1667, however often the bucket was written (flooring each refill answered T0 + 1668 or T0 + 1669).
  it("a token bucket's retry is the first ms a token is whole, in both stores (regression)", async () => {
    const T0 = Date.UTC(2026, 10, 23, 12, 0, 57);
    const limit = { ...compileLimit({ window: "bucket:6/10s,burst=1" }), id: `reg${Date.now()}:bucket` };
    const mem = createMemoryStore();
    const up = createUpstashStore({
      url: inject("upstashUrl"),
      token: inject("upstashToken"),
      timeoutMs: 5_000,
    });
    for (const store of [mem, up]) {
      for (const written of [false, true]) {
        const tenant = `reg-${written}`;
        await store.acquire(tenant, [{ limit, min: 1, want: 1 }], T0);
        if (written)
          await store.flush({ deltas: [{ tenant, limit, periodId: "b", units: 0 }], nowMs: T0 + 6 });
        const r = await store.acquire(tenant, [{ limit, min: 1, want: 1 }], T0 + 54);
        expect(r.ok).toBe(false);
        expect(r.items[0]).toMatchObject({ resetAtMs: T0 + 1_667, retryAtMs: T0 + 1_667 });
        expect((await store.acquire(tenant, [{ limit, min: 1, want: 1 }], T0 + 1_666)).ok).toBe(false);
        expect((await store.acquire(tenant, [{ limit, min: 1, want: 1 }], T0 + 1_667)).ok).toBe(true);
      }
    }
  });

  it("gives identical results on random sequences", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant("acquire" as const),
              advanceMs: fc.oneof(
                fc.constant(0),
                fc.integer({ min: 1, max: 2_000 }),
                fc.integer({ min: 1, max: 90_000 }),
              ),
              tenant: fc.integer({ min: 0, max: 2 }),
              caller: fc.integer({ min: 0, max: 3 }),
              items: fc.uniqueArray(
                fc.record({
                  limit: fc.integer({ min: 0, max: 5 }),
                  min: fc.integer({ min: 0, max: 6 }),
                  want: fc.integer({ min: 0, max: 12 }),
                }),
                { minLength: 1, maxLength: 4, selector: (i) => i.limit },
              ),
            }),
            fc.record({
              kind: fc.constant("return" as const),
              advanceMs: fc.integer({ min: 0, max: 5_000 }),
              tenant: fc.integer({ min: 0, max: 2 }),
              limit: fc.integer({ min: 0, max: 5 }),
              units: fc.integer({ min: -8, max: 8 }),
            }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 59_999 }),
        async (ops: Op[], startOffset) => {
          const r = run++;
          // Fresh limit ids per run so Redis state never leaks between runs.
          const limits: LimitSpec[] = [
            { ...compileLimit({ window: "minute", limit: 7 }), id: `d${r}:minute` },
            { ...compileLimit({ window: "hour", limit: 20 }), id: `d${r}:hour` },
            { ...compileLimit({ window: "sliding:10s", limit: 6 }), id: `d${r}:sliding` },
            { ...compileLimit({ window: "bucket:3/s,burst=5" }), id: `d${r}:bucket` },
            { ...compileLimit({ window: "bucket:1/2s,burst=4" }), id: `d${r}:bucket2` },
            { ...compileLimit({ window: "minute", limit: 3, mode: "shadow" }), id: `d${r}:shadow` },
          ];
          const mem = createMemoryStore();
          const up = createUpstashStore({
            url: inject("upstashUrl"),
            token: inject("upstashToken"),
            timeoutMs: 5_000,
          });
          let now = Date.UTC(2026, 10, 23, 12, 0, 0) + startOffset;
          for (const op of ops) {
            now += op.advanceMs;
            const tenant = `diff-${r}-${op.tenant}`;
            if (op.kind === "acquire") {
              const items: AcquireItem[] = op.items.map((i) => ({
                limit: limits[i.limit]!,
                min: i.min,
                want: Math.max(i.min, i.want),
              }));
              // caller 0 = no isolate id (no sharer registry); 1..3 = isolates sharing the limits
              const caller = op.caller === 0 ? undefined : `iso${op.caller}`;
              const [a, b] = [
                await mem.acquire(tenant, items, now, caller),
                await up.acquire(tenant, items, now, caller),
              ];
              expect(b).toEqual(a);
            } else {
              const limit = limits[op.limit]!;
              const periodId = (await mem.acquire(tenant, [{ limit, min: 0, want: 0 }], now)).items[0]!
                .periodId;
              const delta = { tenant, limit, periodId, units: op.units };
              const [a, b] = [
                await mem.flush({ deltas: [delta], nowMs: now }),
                await up.flush({ deltas: [delta], nowMs: now }),
              ];
              expect(b).toEqual(a);
            }
            const [ra, rb] = [await mem.read(tenant, limits, now), await up.read(tenant, limits, now)];
            expect(rb).toEqual(ra);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
