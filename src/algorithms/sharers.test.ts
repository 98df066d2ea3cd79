// The sharer registry (which isolates drew on a limit lately) and the fair grant it feeds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fairGrant } from "./acquire.ts";
import { updateSharers } from "./sharers.ts";

const NOW = 1_000_000;

describe("updateSharers", () => {
  it("an empty registry holds the caller alone", () => {
    expect(updateSharers(null, "a", NOW, 10_000, 16)).toEqual({ next: `a:${NOW}`, count: 1, write: true });
    expect(updateSharers("", "a", NOW, 10_000, 16).count).toBe(1);
  });

  it("counts the isolates seen within the window, the caller once, most recent first", () => {
    const raw = `b:${NOW - 9_000},a:${NOW - 5_000},c:${NOW - 1}`;
    expect(updateSharers(raw, "a", NOW, 10_000, 16)).toEqual({
      next: `a:${NOW},c:${NOW - 1},b:${NOW - 9_000}`,
      count: 3,
      write: true,
    });
  });

  it("drops isolates last seen before the window", () => {
    const raw = `b:${NOW - 10_001},c:${NOW - 10_000}`;
    expect(updateSharers(raw, "a", NOW, 10_000, 16)).toEqual({
      next: `a:${NOW},c:${NOW - 10_000}`,
      count: 2,
      write: true,
    });
  });

  it("is not written again while it lists the caller from the last quarter of the window", () => {
    const raw = `a:${NOW - 2_500},b:${NOW - 9_000}`;
    expect(updateSharers(raw, "a", NOW, 10_000, 16)).toMatchObject({ count: 2, write: false });
    expect(updateSharers(raw, "a", NOW + 1, 10_000, 16)).toMatchObject({ count: 2, write: true });
    expect(updateSharers(raw, "b", NOW, 10_000, 16)).toMatchObject({ count: 2, write: true });
  });

  it("keeps at most `slots` isolates (the most recent)", () => {
    const raw = Array.from({ length: 10 }, (_, i) => `i${i}:${NOW - 100 + i}`).join(",");
    const s = updateSharers(raw, "me", NOW, 10_000, 4);
    expect(s.count).toBe(4);
    expect(s.next).toBe(`me:${NOW},i9:${NOW - 91},i8:${NOW - 92},i7:${NOW - 93}`);
  });

  it("skips malformed parts and ids holding ':'", () => {
    const s = updateSharers(`junk,:5,x:y:${NOW},z:abc`, "a", NOW, 10_000, 16);
    // "x:y" is an id (split at the last ':'); "z:abc" has no valid time and is dropped.
    expect(s).toEqual({ next: `a:${NOW},x:y:${NOW}`, count: 2, write: true });
  });

  it("its output reads back as the same registry (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.constantFrom("a", "b", "c", "d", "e"), age: fc.nat(20_000) })),
        fc.constantFrom("a", "b", "z"),
        fc.integer({ min: 1, max: 8 }),
        (seen, caller, slots) => {
          let raw: string | null = null;
          for (const { id, age } of seen) raw = updateSharers(raw, id, NOW - age, 10_000, slots).next;
          const s = updateSharers(raw, caller, NOW, 10_000, slots);
          expect(s.count).toBeGreaterThanOrEqual(1);
          expect(s.count).toBeLessThanOrEqual(slots);
          const ids = s.next.split(",").map((p) => p.slice(0, p.lastIndexOf(":")));
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids[0]).toBe(caller);
          expect(updateSharers(s.next, caller, NOW, 10_000, slots)).toEqual({ ...s, write: false });
        },
      ),
    );
  });
});

describe("fairGrant", () => {
  it("splits what is left among the sharers, one share in reserve, within [min, want]", () => {
    expect(fairGrant(1, 50, 100, 4)).toBe(20); // 100 / (4 + 1)
    expect(fairGrant(1, 500, 100, 1)).toBe(100); // alone: no reserve
    expect(fairGrant(1, 50, 4, 4)).toBe(1); // the last units go one request at a time
    expect(fairGrant(1, 10, 100, 4)).toBe(10);
    expect(fairGrant(3, 50, 8, 4)).toBe(3); // never below min
    expect(fairGrant(1, 50, 100, 0)).toBe(50); // no sharers counts as one
    expect(fairGrant(0, 5, 3, 8)).toBe(0); // a top-up may get nothing
  });

  it("never exceeds what is left when min fits (property)", () => {
    fc.assert(
      fc.property(
        fc.nat(1_000),
        fc.nat(1_000),
        fc.nat(1_000),
        fc.integer({ min: 1, max: 16 }),
        (a, b, avail, n) => {
          const [min, want] = a <= b ? [a, b] : [b, a];
          fc.pre(min <= avail);
          const g = fairGrant(min, want, avail, n);
          expect(g).toBeGreaterThanOrEqual(min);
          expect(g).toBeLessThanOrEqual(Math.min(want, Math.max(min, avail)));
        },
      ),
    );
  });
});
