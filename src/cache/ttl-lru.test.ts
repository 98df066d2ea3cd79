// The bounded TTL+LRU map: expiry on a fake clock, LRU order, entry and byte bounds, onEvict, hit/miss counters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../core/clock.ts";
import { TtlLru, type TtlLruOptions } from "./ttl-lru.ts";

function make(opts: Partial<TtlLruOptions<string>> = {}) {
  const clock = createFakeClock();
  const evicted: Array<[string, string]> = [];
  const cache = new TtlLru<string>({
    maxEntries: 3,
    maxBytes: 1_000_000,
    ttlMs: 1_000,
    clock,
    sizeOf: (k, v) => k.length + v.length,
    onEvict: (k, v) => evicted.push([k, v]),
    ...opts,
  });
  return { cache, clock, evicted };
}

const keys = (cache: TtlLru<string>) => [...cache.entries()].map(([k]) => k);

describe("TtlLru", () => {
  it("returns a value until its TTL has passed, then forgets it", () => {
    const { cache, clock, evicted } = make();
    cache.set("a", "1");
    clock.advance(999);
    expect(cache.get("a")).toBe("1");
    clock.advance(1);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.byteSize).toBe(0);
    expect(evicted).toEqual([]); // expiry is not an eviction
  });

  it("takes a per-entry TTL", () => {
    const { cache, clock } = make();
    cache.set("short", "1", 10);
    cache.set("long", "2", 5_000);
    clock.advance(2_000);
    expect(cache.peek("short")).toBeUndefined();
    expect(cache.peek("long")).toBe("2");
  });

  it("re-setting a key restarts its TTL and replaces its value without an eviction", () => {
    const { cache, clock, evicted } = make();
    cache.set("a", "1");
    clock.advance(800);
    cache.set("a", "22");
    clock.advance(800);
    expect(cache.get("a")).toBe("22");
    expect(cache.size).toBe(1);
    expect(cache.byteSize).toBe(3);
    expect(evicted).toEqual([]);
  });

  it("evicts the least recently used entry when the entry bound is hit", () => {
    const { cache, evicted } = make();
    cache.set("a", "1");
    cache.set("b", "2");
    cache.set("c", "3");
    expect(cache.get("a")).toBe("1"); // a is now the most recently used
    cache.set("d", "4");
    expect(evicted).toEqual([["b", "2"]]);
    expect(keys(cache)).toEqual(["c", "a", "d"]);
    expect(cache.evictions).toBe(1);
  });

  it("peek also refreshes recency (it is a use without counting)", () => {
    const { cache, evicted } = make();
    cache.set("a", "1");
    cache.set("b", "2");
    cache.set("c", "3");
    cache.peek("a");
    cache.set("d", "4");
    expect(evicted.map(([k]) => k)).toEqual(["b"]);
    expect(cache.hits + cache.misses).toBe(0);
  });

  it("evicts the oldest entries until the byte budget fits", () => {
    const { cache, evicted } = make({ maxEntries: 100, maxBytes: 10 });
    cache.set("a", "1111"); // 5
    cache.set("b", "2222"); // 10
    expect(evicted).toEqual([]);
    cache.set("c", "33333"); // 16 -> a goes (11) -> b goes (6)
    expect(evicted.map(([k]) => k)).toEqual(["a", "b"]);
    expect(cache.byteSize).toBe(6);
    expect(keys(cache)).toEqual(["c"]);
  });

  it("keeps a single entry larger than the byte budget (it is the newest)", () => {
    const { cache } = make({ maxEntries: 100, maxBytes: 4 });
    cache.set("big", "0123456789");
    expect(cache.peek("big")).toBe("0123456789");
  });

  it("calls onEvict for bound evictions only, not for delete, clear or expiry", () => {
    const { cache, clock, evicted } = make();
    cache.set("a", "1");
    cache.set("b", "2");
    expect(cache.delete("a")).toBe(true);
    expect(cache.delete("a")).toBe(false);
    clock.advance(5_000);
    expect(cache.get("b")).toBeUndefined();
    cache.set("c", "3");
    cache.clear();
    expect(evicted).toEqual([]);
    expect(cache.size).toBe(0);
    expect(cache.byteSize).toBe(0);
  });

  it("calls onExpire when an expired entry is dropped, on access or by prune (never for live ones)", () => {
    const expired: string[] = [];
    const { cache, clock, evicted } = make({ maxEntries: 10, onExpire: (k) => expired.push(k) });
    cache.set("a", "1", 100);
    cache.set("b", "2", 100);
    cache.set("c", "3", 5_000);
    cache.set("d", "4", 100);
    cache.delete("d");
    clock.advance(100);
    expect(cache.get("a")).toBeUndefined();
    expect(expired).toEqual(["a"]);
    cache.prune();
    expect(expired).toEqual(["a", "b"]);
    expect(cache.size).toBe(1);
    expect(cache.byteSize).toBe(2);
    cache.prune();
    expect(expired).toEqual(["a", "b"]);
    expect(evicted).toEqual([]);
  });

  it("counts hits and misses on get (expired entries are misses) and resets them", () => {
    const { cache, clock } = make();
    cache.set("a", "1");
    cache.get("a");
    cache.get("a");
    cache.get("nope");
    clock.advance(1_000);
    cache.get("a");
    expect([cache.hits, cache.misses]).toEqual([2, 2]);
    cache.resetCounters();
    expect([cache.hits, cache.misses, cache.evictions]).toEqual([0, 0, 0]);
  });

  it("entries() lists live entries oldest first and skips expired ones", () => {
    const { cache, clock } = make({ maxEntries: 10 });
    cache.set("a", "1", 100);
    cache.set("b", "2", 5_000);
    cache.set("c", "3", 5_000);
    clock.advance(200);
    expect([...cache.entries()]).toEqual([
      ["b", "2"],
      ["c", "3"],
    ]);
  });

  it("stays within its entry and byte bounds and accounts bytes exactly (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), key: fc.nat(20), len: fc.nat(40), ttl: fc.nat(3_000) }),
      fc.record({ kind: fc.constant("get" as const), key: fc.nat(20) }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.nat(20) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.nat(1_500) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(op),
        (maxEntries, maxBytes, ops) => {
          const { cache, clock, evicted } = make({ maxEntries, maxBytes });
          for (const o of ops) {
            if (o.kind === "set") {
              const k = `k${o.key}`;
              cache.set(k, "x".repeat(o.len), o.ttl);
            } else if (o.kind === "get") cache.get(`k${o.key}`);
            else if (o.kind === "delete") cache.delete(`k${o.key}`);
            else clock.advance(o.ms);
            expect(cache.size).toBeLessThanOrEqual(maxEntries);
            const all = [...cache.entries()];
            const bytes = all.reduce((n, [k, v]) => n + k.length + v.length, 0);
            expect(bytes).toBeLessThanOrEqual(cache.byteSize);
            // Over the byte budget only with a single oversized entry.
            if (cache.byteSize > maxBytes) expect(cache.size).toBe(1);
          }
          // Touching every key drops the expired ones; then the byte count is exactly the live entries' sizes.
          for (let k = 0; k <= 20; k++) cache.peek(`k${k}`);
          const live = [...cache.entries()];
          expect(cache.size).toBe(live.length);
          expect(cache.byteSize).toBe(live.reduce((n, [k, v]) => n + k.length + v.length, 0));
          expect(cache.evictions).toBe(evicted.length);
        },
      ),
    );
  });
});
