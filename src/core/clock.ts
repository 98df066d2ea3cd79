// The clock and the timers: the only place in src/ that reads the wall time or sets a timer; everything else is
// handed a Clock and Timers, so tests move time themselves instead of sleeping.
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

/** One-shot wake-ups. Workers allow timers only while a request runs, which is when src/ sets them. */
export interface Timers {
  /** Calls `fn` once, `ms` from now (at once for 0 or less); returns what cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemTimers: Timers = {
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

export interface FakeTimers extends Timers {
  /** Moves the clock `ms` forward, firing each timer due on the way at its own instant, in order. */
  advance(ms: number): void;
  /** Timers set and not yet fired or cancelled. */
  pending(): number;
}

/**
 * Timers that fire only when the test moves `clock` through them (several may share one clock: each fires its own
 * timers; one that is never advanced stands for an isolate that stopped running).
 */
export function createFakeTimers(clock: FakeClock): FakeTimers {
  let seq = 0;
  const due = new Map<number, { atMs: number; fn: () => void }>();
  return {
    after(ms, fn) {
      const id = seq++;
      due.set(id, { atMs: clock.now() + Math.max(0, ms), fn });
      return () => {
        due.delete(id);
      };
    },
    advance(ms) {
      const target = clock.now() + ms;
      for (;;) {
        let next: [number, { atMs: number; fn: () => void }] | undefined;
        for (const e of due) if (e[1].atMs <= target && (!next || e[1].atMs < next[1].atMs)) next = e;
        if (!next) break;
        due.delete(next[0]);
        if (next[1].atMs > clock.now()) clock.set(next[1].atMs);
        next[1].fn();
      }
      if (target > clock.now()) clock.set(target);
    },
    pending: () => due.size,
  };
}
