// Properties of the waiting room under random arrivals, releases, aborts and time steps: every wait ends exactly once
// (admitted, expired, aborted or full), none is lost however time moves, no request runs two attempts at once or is
// admitted twice, the slots handed out never exceed the capacity, and a slot released goes to a waiting request at once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../core/clock.ts";
import { Metrics } from "../metrics/metrics.ts";
import { type Step, type WaitEnd, WaitingRoom } from "./waiting-room.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const WINDOW_MS = 10_000;
const PER_WINDOW = 2;
const CAPACITY = 2;
const settle = () => new Promise<void>((r) => setImmediate(r));

type Event =
  | { e: "arrive"; tenant: string; kind: "time" | "slot"; waitS: number; abortable: boolean }
  | { e: "release"; pick: number }
  | { e: "advance"; ms: number }
  | { e: "abort"; pick: number };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      e: fc.constant("arrive" as const),
      tenant: fc.constantFrom("a", "b", "c"),
      kind: fc.constantFrom("time" as const, "slot" as const),
      waitS: fc.integer({ min: 1, max: 40 }),
      abortable: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ e: fc.constant("release" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ e: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 15_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ e: fc.constant("abort" as const), pick: fc.nat() }) },
);

interface Tracked {
  id: string;
  errors: unknown[];
  kind: "time" | "slot";
  running: number;
  successes: number;
  discarded: number;
  ends: Array<WaitEnd<string>>;
  abort: AbortController | undefined;
}

/** A room with a model of what its attempts draw on: CAPACITY slots, PER_WINDOW units per tenant and window. */
class Sim {
  readonly clock = createFakeClock(T0);
  readonly timers = createFakeTimers(this.clock);
  readonly room = new WaitingRoom<string>({
    clock: this.clock,
    timers: this.timers,
    metrics: new Metrics(),
    maxDepth: 12,
    recheckMs: 1_000,
  });
  readonly all: Tracked[] = [];
  readonly holding: string[] = [];
  inUse = 0;
  private readonly used = new Map<string, number>();
  private seq = 0;

  give(id: string): void {
    this.inUse--;
    this.holding.splice(this.holding.indexOf(id), 1);
    this.room.slotFreed(undefined);
  }

  private draw(t: Tracked, tenant: string): Step<string> {
    if (t.kind === "slot") {
      if (this.inUse >= CAPACITY) return { done: false, wake: "slot", scope: "origin" };
      this.inUse++;
      this.holding.push(t.id);
      return { done: true, value: t.id };
    }
    const w = Math.floor(this.clock.now() / WINDOW_MS);
    const k = `${tenant}:${w}`;
    if ((this.used.get(k) ?? 0) >= PER_WINDOW)
      return { done: false, wake: "time", atMs: (w + 1) * WINDOW_MS };
    this.used.set(k, (this.used.get(k) ?? 0) + 1);
    return { done: true, value: t.id };
  }

  arrive(ev: Extract<Event, { e: "arrive" }>): void {
    const t: Tracked = {
      id: `${ev.tenant}${this.seq++}`,
      kind: ev.kind,
      errors: [],
      running: 0,
      successes: 0,
      discarded: 0,
      ends: [],
      abort: ev.abortable ? new AbortController() : undefined,
    };
    this.all.push(t);
    const next = (Math.floor(this.clock.now() / WINDOW_MS) + 1) * WINDOW_MS;
    this.room
      .wait({
        tenant: ev.tenant,
        weight: 1,
        maxDepth: 5,
        deadlineMs: this.clock.now() + ev.waitS * 1000,
        signal: t.abort?.signal,
        first:
          ev.kind === "slot"
            ? { done: false, wake: "slot", scope: "origin" }
            : { done: false, wake: "time", atMs: next },
        attempt: async () => {
          t.running++;
          expect(t.running).toBe(1);
          await settle();
          const s = this.draw(t, ev.tenant);
          t.running--;
          if (s.done) t.successes++;
          return s;
        },
        discard: (v) => {
          t.discarded++;
          if (this.holding.includes(v)) this.give(v);
        },
      })
      .then(
        (end) => t.ends.push(end),
        (err) => t.errors.push(err),
      );
  }

  async apply(ev: Event): Promise<void> {
    if (ev.e === "arrive") this.arrive(ev);
    else if (ev.e === "release" && this.holding.length)
      this.give(this.holding[ev.pick % this.holding.length]!);
    else if (ev.e === "advance") this.timers.advance(ev.ms);
    else if (ev.e === "abort" && this.all.length) this.all[ev.pick % this.all.length]!.abort?.abort();
    for (let i = 0; i < 4; i++) await settle();
  }

  admittedSlots(): number {
    return this.all.filter((t) => t.kind === "slot" && t.ends[0]?.kind === "done").length;
  }
}

describe("WaitingRoom", () => {
  it("ends every wait exactly once, admits none twice, never exceeds the slots, and hands a released slot on at once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 60 }), async (events) => {
        const sim = new Sim();
        for (const ev of events) {
          await sim.apply(ev);
          expect(sim.inUse).toBeLessThanOrEqual(CAPACITY);
        }
        // Slots released here go to waiting requests at once (no recheck needed): none is skipped or stuck.
        const pending = sim.all.filter((t) => t.kind === "slot" && t.ends.length === 0).length;
        const before = sim.admittedSlots();
        const released = sim.holding.length;
        for (const id of [...sim.holding]) sim.give(id);
        for (let i = 0; i < 8; i++) await settle();
        expect(sim.admittedSlots() - before).toBeGreaterThanOrEqual(Math.min(released, pending));
        // Time runs out for everyone: no wait is left hanging.
        for (let i = 0; i < 60; i++) await sim.apply({ e: "advance", ms: 1_000 });
        expect(sim.room.depth).toBe(0);
        for (const t of sim.all) {
          expect(t.errors, t.id).toEqual([]);
          expect(t.ends, t.id).toHaveLength(1);
          expect(t.successes).toBeLessThanOrEqual(1);
          if (t.ends[0]!.kind === "done") expect([t.successes, t.discarded]).toEqual([1, 0]);
          else expect(t.successes).toBe(t.discarded);
        }
        const s = sim.room.stats;
        expect(s.admitted + s.expired + s.aborted + s.rejected).toBe(sim.all.length);
      }),
      { numRuns: 60 },
    );
  });
});
