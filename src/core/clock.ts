// The clock: the only place in src/ that reads the wall time; everything else is handed a Clock.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface FakeClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** A settable clock for tests and replays (no sleeps: time moves when the test says so). */
export function createFakeClock(startMs = Date.UTC(2026, 10, 23, 12, 0, 0)): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    set(ms) {
      t = ms;
    },
    advance(ms) {
      t += ms;
    },
  };
}
