// The waiting room with fake timers and scripted attempts: wake-ups at the named instant (no polling), arrival order
// within a tenant, deadlines, bounds, clients that leave, and round-robin turns for slots.
import { describe, expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../core/clock.ts";
import { Metrics } from "../metrics/metrics.ts";
import { type Blocked, type Step, type WaitEnd, WaitingRoom, type WaitRequest } from "./waiting-room.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 30);
/** Lets every pending promise continuation run (no time passes). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function harness(o: { maxDepth?: number; recheckMs?: number } = {}) {
  const clock = createFakeClock(T0);
  const timers = createFakeTimers(clock);
  const metrics = new Metrics();
  const room = new WaitingRoom<string>({
    clock,
    timers,
    metrics,
    maxDepth: o.maxDepth ?? 1000,
    recheckMs: o.recheckMs ?? 1000,
  });
  const attempts: string[] = [];
  const ends = new Map<string, WaitEnd<string>>();
  const discarded: string[] = [];
  function wait(
    id: string,
    tenant: string,
    first: Blocked,
    attempt: () => Promise<Step<string>> | Step<string>,
    extra: Partial<WaitRequest<string>> = {},
  ) {
    const p = room.wait({
      tenant,
      weight: 1,
      maxDepth: 100,
      deadlineMs: T0 + 60_000,
      first,
      attempt: async () => {
        attempts.push(id);
        return attempt();
      },
      discard: (v) => discarded.push(v),
      ...extra,
    });
    p.then(
      (e) => ends.set(id, e),
      (err) => ends.set(id, { kind: "expired", last: first, waitedMs: Number.NaN, err } as never),
    );
  }
  return { clock, timers, metrics, room, attempts, ends, discarded, wait };
}

/** A success when `has()` (which spends one), else `otherwise`. */
const take = (has: () => boolean, id: string, otherwise: Blocked): Step<string> =>
  has() ? { done: true, value: id } : otherwise;
const at = (atMs: number): Blocked => ({ done: false, wake: "time", atMs });
const slot = (scope: "tenant" | "origin" = "origin"): Blocked => ({ done: false, wake: "slot", scope });

describe("waiting for time", () => {
  it("wakes a tenant's head at the named instant, then the next ones at once, in arrival order", async () => {
    const h = harness();
    let allowance = 0;
    const attempt = (id: string) => (): Step<string> =>
      take(() => allowance > 0 && allowance-- > 0, id, at(T0 + 90_000));
    for (const id of ["a1", "a2", "a3"]) h.wait(id, "a", at(T0 + 30_000), attempt(id));
    await settle();
    h.timers.advance(29_999);
    await settle();
    expect(h.attempts).toEqual([]);
    expect(h.room.depthOf("a")).toBe(3);
    allowance = 2;
    h.timers.advance(1);
    for (let i = 0; i < 5; i++) await settle();
    expect(h.attempts).toEqual(["a1", "a2", "a3"]);
    expect(h.ends.get("a1")).toEqual({ kind: "done", value: "a1", waitedMs: 30_000 });
    expect(h.ends.get("a2")).toEqual({ kind: "done", value: "a2", waitedMs: 30_000 });
    // Its next chance (T0 + 90 s) is past its deadline (T0 + 60 s): refused now, not at the deadline.
    expect(h.ends.get("a3")).toEqual({ kind: "expired", last: at(T0 + 90_000), waitedMs: 30_000 });
    expect(h.room.depth).toBe(0);
    expect(h.timers.pending()).toBe(0);
    expect(h.room.stats.admitted).toBe(2);
    expect(h.room.stats.expired).toBe(1);
  });

  it("refuses at its deadline a request still waiting, and at once one whose chance comes after it", async () => {
    const h = harness({ recheckMs: 600_000 });
    h.wait("a1", "a", at(T0 + 50_000), () => at(T0 + 50_000), { deadlineMs: T0 + 40_000 });
    h.wait("s1", "s", slot(), () => ({ done: true, value: "s1" }), { deadlineMs: T0 + 45_000 });
    await settle();
    expect(h.ends.get("a1")).toMatchObject({ kind: "expired", waitedMs: 0 });
    h.timers.advance(45_000);
    await settle();
    expect(h.ends.has("s1")).toBe(false);
    h.timers.advance(1);
    await settle();
    expect(h.ends.get("s1")).toEqual({ kind: "expired", last: slot(), waitedMs: 45_001 });
    expect(h.attempts).toEqual([]);
    expect(h.room.depth).toBe(0);
  });

  it("hands the head's place to the next request at once when the head gives up", async () => {
    const h = harness();
    h.wait("b1", "b", at(T0 + 50_000), () => at(T0 + 100_000), { deadlineMs: T0 + 55_000 });
    h.wait("b2", "b", at(T0 + 50_000), () => ({ done: true, value: "b2" }), { deadlineMs: T0 + 120_000 });
    h.timers.advance(50_000);
    for (let i = 0; i < 3; i++) await settle();
    expect(h.attempts).toEqual(["b1", "b2"]);
    expect(h.ends.get("b1")).toMatchObject({ kind: "expired", waitedMs: 50_000 });
    expect(h.ends.get("b2")).toMatchObject({ kind: "done", value: "b2", waitedMs: 50_000 });
  });

  it("answers full at the per-tenant and the global bound, naming which", async () => {
    const h = harness({ maxDepth: 3 });
    const never = () => at(T0 + 50_000);
    h.wait("a1", "a", at(T0 + 50_000), never, { maxDepth: 2 });
    h.wait("a2", "a", at(T0 + 50_000), never, { maxDepth: 2 });
    h.wait("a3", "a", at(T0 + 50_000), never, { maxDepth: 2 });
    h.wait("b1", "b", at(T0 + 50_000), never);
    h.wait("c1", "c", at(T0 + 50_000), never);
    await settle();
    expect(h.ends.get("a3")).toEqual({ kind: "full", bound: "tenant", maxDepth: 2 });
    expect(h.ends.get("c1")).toEqual({ kind: "full", bound: "global", maxDepth: 3 });
    expect(h.room.stats.rejected).toBe(2);
    expect(h.room.depth).toBe(3);
  });
});

describe("a client that leaves", () => {
  it("frees its place at once, even while its attempt runs, and a success that comes too late is undone", async () => {
    const h = harness();
    const abort = new AbortController();
    let answer!: (s: Step<string>) => void;
    h.wait("a1", "a", at(T0 + 10_000), () => new Promise<Step<string>>((r) => (answer = r)), {
      signal: abort.signal,
    });
    h.timers.advance(10_000);
    await settle();
    expect(h.attempts).toEqual(["a1"]);
    abort.abort();
    expect(h.room.depth).toBe(0);
    expect(h.room.depthOf("a")).toBe(0);
    answer({ done: true, value: "a1-slot" });
    await settle();
    expect(h.discarded).toEqual(["a1-slot"]);
    expect(h.ends.get("a1")).toMatchObject({ kind: "aborted" });
    expect(h.room.stats.admitted).toBe(0);
  });

  it("leaves at once when idle, and one already gone never enters", async () => {
    const h = harness();
    const abort = new AbortController();
    h.wait("a1", "a", slot(), () => ({ done: true, value: "x" }), { signal: abort.signal });
    expect(h.room.depth).toBe(1);
    abort.abort();
    await settle();
    expect(h.ends.get("a1")).toMatchObject({ kind: "aborted" });
    expect(h.room.depth).toBe(0);
    h.wait("a2", "a", slot(), () => ({ done: true, value: "y" }), { signal: abort.signal });
    await settle();
    expect(h.ends.get("a2")).toEqual({ kind: "aborted", last: slot(), waitedMs: 0 });
    expect(h.attempts).toEqual([]);
  });
});

describe("waiting for a slot", () => {
  it("gives a freed slot round-robin: a tenant's single request comes after at most one of another's 100", async () => {
    const h = harness();
    let free = 0;
    const grab = (id: string) => (): Step<string> => take(() => free > 0 && free-- > 0, id, slot());
    for (let i = 0; i < 100; i++) h.wait(`e${i}`, "enterprise", slot(), grab(`e${i}`));
    h.wait("f0", "free", slot(), grab("f0"));
    await settle();
    expect(h.attempts).toEqual([]);
    for (let k = 0; k < 3; k++) {
      free++;
      h.room.slotFreed(undefined);
      await settle();
    }
    expect(h.attempts).toEqual(["e0", "f0", "e1"]);
    expect([...h.ends.keys()]).toEqual(["e0", "f0", "e1"]);
    expect(h.room.depthOf("enterprise")).toBe(98);
  });

  it("looks for slots freed elsewhere every recheckMs, one probe for all waiters, until one is refused", async () => {
    const h = harness({ recheckMs: 1_000 });
    let free = 0;
    const grab = (id: string) => (): Step<string> => take(() => free > 0 && free-- > 0, id, slot());
    for (const id of ["a1", "b1", "c1"]) h.wait(id, id[0]!, slot(), grab(id));
    h.timers.advance(1_000);
    await settle();
    expect(h.attempts).toEqual(["a1"]); // refused: the probe stops there
    free = 2;
    h.timers.advance(999);
    await settle();
    expect(h.attempts).toEqual(["a1"]);
    h.timers.advance(1);
    for (let i = 0; i < 5; i++) await settle();
    expect(h.attempts).toEqual(["a1", "a1", "b1", "c1"]);
    expect(h.ends.get("a1")).toMatchObject({ kind: "done" });
    expect(h.ends.get("b1")).toMatchObject({ kind: "done" });
    expect(h.ends.has("c1")).toBe(false);
  });

  it("does not offer origin capacity to a tenant held back by its own limit until one of its slots frees", async () => {
    const h = harness();
    let tFree = 0;
    h.wait("t1", "t", slot("tenant"), () => (tFree > 0 ? { done: true, value: "t1" } : slot("tenant")));
    h.wait("u1", "u", slot("origin"), () => ({ done: true, value: "u1" }));
    expect(h.room.slotsClaimed("v", true)).toBe("origin");
    expect(h.room.slotsClaimed("v", false)).toBeNull();
    expect(h.room.slotsClaimed("t", false)).toBe("tenant");
    // A newcomer of a tenant waiting for the origin queues behind it for the origin, not as held back by its own limit.
    expect(h.room.slotsClaimed("u", true)).toBe("origin");
    expect(h.room.slotsClaimed("t", true)).toBe("tenant");
    h.room.slotFreed(undefined);
    await settle();
    expect(h.attempts).toEqual(["u1"]);
    tFree = 1;
    h.room.slotFreed("t");
    await settle();
    expect(h.attempts).toEqual(["u1", "t1"]);
    expect(h.ends.get("t1")).toMatchObject({ kind: "done", value: "t1" });
  });
});
