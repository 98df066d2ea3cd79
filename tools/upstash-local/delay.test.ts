// Unit tests for the slow-store knob: the POST /__delay body, the accepted range, and when the wait is taken.

import { describe, expect, it } from "vitest";
import { checkDelayMs, createDelay, MAX_DELAY_MS, parseDelayBody } from "./delay.ts";

describe("parseDelayBody", () => {
  it('reads {"ms": n} for every integer from 0 to the maximum', () => {
    expect(parseDelayBody('{"ms":0}')).toBe(0);
    expect(parseDelayBody('{"ms":2000}')).toBe(2000);
    expect(parseDelayBody(`{"ms":${MAX_DELAY_MS}}`)).toBe(MAX_DELAY_MS);
  });

  it("refuses anything else with a 400 that says what is expected", () => {
    for (const body of [
      "",
      "2000",
      "[2000]",
      "{}",
      '{"ms":-1}',
      '{"ms":1.5}',
      '{"ms":"2000"}',
      '{"ms":60001}',
    ]) {
      expect(() => parseDelayBody(body), body).toThrow(
        expect.objectContaining({ status: 400, message: expect.stringMatching(/^ERR .*ms/) }),
      );
    }
  });
});

describe("createDelay", () => {
  it("takes no wait while off and the current delay once set", async () => {
    const waits: number[] = [];
    const delay = createDelay(0, async (ms) => {
      waits.push(ms);
    });
    await delay.before();
    expect(waits).toEqual([]);
    delay.set(2000);
    await delay.before();
    delay.set(0);
    await delay.before();
    expect(waits).toEqual([2000]);
    expect(delay.ms).toBe(0);
  });

  it("checks the initial and the new value alike", () => {
    expect(() => createDelay(-5)).toThrow(/delayMs must be an integer/);
    expect(() => createDelay(0).set(MAX_DELAY_MS + 1)).toThrow(/delayMs must be an integer/);
    expect(checkDelayMs(250, "x")).toBe(250);
  });
});
