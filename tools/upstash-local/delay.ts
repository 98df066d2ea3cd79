// The slow-store knob: an artificial wait before each command request runs (off by default), for outage drills.

import { setTimeout as sleep } from "node:timers/promises";
import { BodyError } from "./request-body.ts";

/** The longest delay accepted: longer than any client timeout worth simulating, short enough to stop by itself. */
export const MAX_DELAY_MS = 60_000;

/** Checks a delay in milliseconds: an integer from 0 to MAX_DELAY_MS. `what` names it in the message. */
export function checkDelayMs(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS)
    throw new BodyError(`ERR ${what} must be an integer from 0 to ${MAX_DELAY_MS}, got ${String(value)}`);
  return value;
}

/** The body of POST /__delay: `{"ms": <0..60000>}`. */
export function parseDelayBody(text: string): number {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BodyError('ERR invalid JSON request body: expected {"ms": <milliseconds>}');
  }
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("ms" in body))
    throw new BodyError('ERR the body must be {"ms": <milliseconds>}');
  return checkDelayMs(body.ms, "ms");
}

export type Delay = {
  /** The current delay (0: off). */
  readonly ms: number;
  set(ms: number): void;
  /** Waits the current delay before a command request runs; resolves at once while it is 0. */
  before(): Promise<void>;
};

/** `wait` is the timer (injected by tests, which then decide when a delayed request goes on). */
export function createDelay(initialMs = 0, wait: (ms: number) => Promise<void> = (ms) => sleep(ms)): Delay {
  let current = checkDelayMs(initialMs, "delayMs");
  return {
    get ms() {
      return current;
    },
    set(ms) {
      current = checkDelayMs(ms, "delayMs");
    },
    before: () => (current === 0 ? Promise.resolve() : wait(current)),
  };
}
