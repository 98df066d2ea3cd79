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

describe("WaitingRoom", () => {
  it("ends every wait exactly once, admits none twice, never exceeds the slots, and hands a released slot on at once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 60 }), async (events) => {
        const clock = createFakeClock(T0);
        const timers = createFakeTimers(clock);
        const room = new WaitingRoom<string>({
          clock,
          timers,
          metrics: new Metrics(),
          maxDepth: 12,
          recheckMs: 1_000,
        });
        const used = new Map<string, number>();
        let inUse = 0;
        const holding: string[] = [];
        const all: Tracked[] = [];
        const give = (id: string) => {
          inUse--;
          holding.splice(holding.indexOf(id), 1);
        };
        let seq = 0;
        for (const ev of events) {
          if (ev.e === "arrive") {
            const t: Tracked = {
              id: `${ev.tenant}${seq++}`,
              kind: ev.kind,
              errors: [],
              running: 0,
              successes: 0,
              discarded: 0,
              ends: [],
              abort: ev.abortable ? new AbortController() : undefined,
            };
            all.push(t);
            const attempt = (): Step<string> => {
              if (ev.kind === "slot") {
                if (inUse >= CAPACITY) return { done: false, wake: "slot", scope: "origin" };
                inUse++;
                holding.push(t.id);
                return { done: true, value: t.id };
              }
              const w = Math.floor(clock.now() / WINDOW_MS);
              const k = `${ev.tenant}:${w}`;
              if ((used.get(k) ?? 0) >= PER_WINDOW)
                return { done: false, wake: "time", atMs: (w + 1) * WINDOW_MS };
              used.set(k, (used.get(k) ?? 0) + 1);
              return { done: true, value: t.id };
            };
            const first =
              ev.kind === "slot"
                ? ({ done: false, wake: "slot", scope: "origin" } as const)
                : ({
                    done: false,
                    wake: "time",
                    atMs: (Math.floor(clock.now() / WINDOW_MS) + 1) * WINDOW_MS,
                  } as const);
            room
              .wait({
                tenant: ev.tenant,
                weight: 1,
                maxDepth: 5,
                deadlineMs: clock.now() + ev.waitS * 1000,
                signal: t.abort?.signal,
                first,
                attempt: async () => {
                  t.running++;
                  expect(t.running).toBe(1);
                  await settle();
                  const s = attempt();
                  t.running--;
                  if (s.done) t.successes++;
                  return s;
                },
                discard: (v) => {
                  t.discarded++;
                  if (holding.includes(v)) give(v);
                  room.slotFreed(undefined);
                },
              })
              .then(
                (end) => t.ends.push(end),
                (err) => t.errors.push(err),
              );
          } else if (ev.e === "release" && holding.length) {
            give(holding[ev.pick % holding.length]!);
            room.slotFreed(undefined);
          } else if (ev.e === "advance") timers.advance(ev.ms);
          else if (ev.e === "abort" && all.length) all[ev.pick % all.length]!.abort?.abort();
          for (let i = 0; i < 4; i++) await settle();
          expect(inUse).toBeLessThanOrEqual(CAPACITY);
        }
        // Slots released here go to waiting requests at once (no recheck needed): none is skipped or stuck.
        const pending = all.filter((t) => t.kind === "slot" && t.ends.length === 0).length;
        const released = holding.length;
        for (const id of [...holding]) {
          give(id);
          room.slotFreed(undefined);
        }
        for (let i = 0; i < 8; i++) await settle();
        const admittedNow = all.filter((t) => t.kind === "slot" && t.ends[0]?.kind === "done").length;
        expect(holding.length).toBeGreaterThanOrEqual(Math.min(released, pending));
        expect(admittedNow).toBeGreaterThanOrEqual(Math.min(released, pending));
        // Time runs out for everyone: no wait is left hanging.
        for (let i = 0; i < 60; i++) {
          timers.advance(1_000);
          for (let k = 0; k < 4; k++) await settle();
        }
        expect(room.depth).toBe(0);
        for (const t of all) {
          expect(t.errors, t.id).toEqual([]);
          expect(t.ends, t.id).toHaveLength(1);
          expect(t.successes).toBeLessThanOrEqual(1);
          const end = t.ends[0]!;
          if (end.kind === "done") expect([t.successes, t.discarded]).toEqual([1, 0]);
          else expect(t.successes).toBe(t.discarded);
        }
        const s = room.stats;
        expect(s.admitted + s.expired + s.aborted + s.rejected).toBe(all.length);
      }),
      { numRuns: 60 },
    );
  });
});
