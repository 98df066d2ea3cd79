// Properties of the fair queue under random pushes, removals and turns: no entry is lost or taken twice, each tenant's
// entries leave in arrival order, and a tenant's entry is delayed by at most weight x rounds of each other tenant.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FairTenantQueue, type QueueEntry } from "./fair-tenant-queue.ts";

const TENANTS = ["a", "b", "c", "d"] as const;
const WEIGHTS: Record<string, number> = { a: 1, b: 3, c: 1, d: 2 };

type Op =
  | { op: "push"; tenant: string }
  | { op: "remove"; pick: number }
  | { op: "shift"; eligible: string[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("push" as const), tenant: fc.constantFrom(...TENANTS) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("shift" as const), eligible: fc.subarray([...TENANTS]) }),
  },
);

describe("FairTenantQueue", () => {
  it("never loses an entry, never hands one out twice, and keeps each tenant's arrival order", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const q = new FairTenantQueue<number>();
        const live = new Set<QueueEntry<number>>();
        const gone = new Set<QueueEntry<number>>();
        const lastTaken = new Map<string, number>();
        let seq = 0;
        const out = (e: QueueEntry<number>) => {
          expect(gone.has(e)).toBe(false);
          expect(live.delete(e)).toBe(true);
          gone.add(e);
        };
        const took = (e: QueueEntry<number>) => {
          out(e);
          expect(e.item).toBeGreaterThan(lastTaken.get(e.tenant) ?? -1);
          lastTaken.set(e.tenant, e.item);
        };
        for (const o of ops) {
          if (o.op === "push") live.add(q.push(o.tenant, seq++, WEIGHTS[o.tenant]));
          else if (o.op === "remove") {
            const all = [...live, ...gone];
            const e = all[o.pick % Math.max(1, all.length)];
            if (e) {
              const wasLive = live.has(e);
              expect(q.remove(e)).toBe(wasLive);
              if (wasLive) out(e);
            }
          } else {
            const e = q.shift((t) => o.eligible.includes(t));
            if (e) {
              expect(o.eligible).toContain(e.tenant);
              took(e);
            } else expect([...live].some((x) => o.eligible.includes(x.tenant))).toBe(false);
          }
          expect(q.size).toBe(live.size);
        }
        for (let e = q.shift(); e; e = q.shift()) took(e);
        expect(live.size).toBe(0);
        expect(q.size).toBe(0);
      }),
    );
  });

  it("delays an entry by at most weight x ceil(position / own weight) entries of any other tenant", () => {
    const step = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...TENANTS).map((t) => ({ push: t })) },
      { weight: 1, arbitrary: fc.constant({ push: null }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
        const q = new FairTenantQueue<number>();
        /** Per waiting entry: its bound per other tenant, and what each other tenant has taken since it came. */
        const waiting = new Map<QueueEntry<number>, { pos: number; seen: Map<string, number> }>();
        let seq = 0;
        const takeOne = () => {
          const e = q.shift();
          if (!e) return;
          const mine = waiting.get(e)!;
          waiting.delete(e);
          for (const [t, n] of mine.seen) {
            const bound = WEIGHTS[t]! * Math.ceil(mine.pos / WEIGHTS[e.tenant]!);
            expect(n, `${t} went ahead of ${e.tenant}#${e.item}`).toBeLessThanOrEqual(bound);
          }
          for (const [other, w] of waiting)
            if (other.tenant !== e.tenant) w.seen.set(e.tenant, (w.seen.get(e.tenant) ?? 0) + 1);
        };
        for (const s of steps) {
          if (s.push === null) takeOne();
          else {
            const e = q.push(s.push, seq++, WEIGHTS[s.push]);
            waiting.set(e, { pos: q.depth(s.push), seen: new Map() });
          }
        }
        while (q.size > 0) takeOne();
      }),
    );
  });

  it("serves a tenant's single entry after at most one entry of a tenant with 100 waiting", () => {
    const q = new FairTenantQueue<string>();
    for (let i = 0; i < 100; i++) q.push("enterprise", `e${i}`);
    q.push("free", "f0");
    const order = [q.shift()!.item, q.shift()!.item, q.shift()!.item];
    expect(order).toEqual(["e0", "f0", "e1"]);
  });

  it("in fifo order serves by arrival across tenants (the comparison round-robin is measured against)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 60 }), (tenants) => {
        const q = new FairTenantQueue<number>("fifo");
        tenants.forEach((t, i) => {
          q.push(t, i);
        });
        const out: number[] = [];
        for (let e = q.shift(); e; e = q.shift()) out.push(e.item);
        expect(out).toEqual(tenants.map((_, i) => i));
      }),
    );
    const q = new FairTenantQueue<string>("fifo");
    for (let i = 0; i < 100; i++) q.push("enterprise", `e${i}`);
    q.push("free", "f0");
    const served = Array.from({ length: 101 }, () => q.shift()!.item);
    expect(served.indexOf("f0")).toBe(100);
  });

  it("skips lanes that are not eligible, and a lane that empties hands the turn on", () => {
    const q = new FairTenantQueue<string>();
    q.push("a", "a0");
    q.push("a", "a1");
    q.push("b", "b0");
    q.push("c", "c0");
    expect(q.shift((t) => t !== "a")?.item).toBe("b0");
    expect(q.depths()).toEqual([
      ["c", 1],
      ["a", 2],
    ]);
    expect(q.shift()?.item).toBe("c0");
    expect(q.shift()?.item).toBe("a0");
    expect(q.shift()?.item).toBe("a1");
    expect(q.shift()).toBeUndefined();
  });
});
