// Window strings of the policy: every valid form, every invalid form with its message, durations and policy names.
import { describe, expect, it } from "vitest";
import type { WindowSpec } from "../core/quota.ts";
import { parseDurationMs, parseWindow, policyName } from "./window-spec.ts";

describe("parseDurationMs", () => {
  it.each([
    ["500ms", 500],
    ["s", 1_000],
    ["90s", 90_000],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
  ])("%s -> %i ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(["", "0s", "1", "1w", "-1s", "1.5s", "1 s", "s1", "1S", "9007199254740991d", "200000000000d"])(
    "rejects %j",
    (text) => {
      expect(parseDurationMs(text)).toBeNull();
    },
  );
});

describe("parseWindow", () => {
  it.each<[string, WindowSpec]>([
    ["second", { kind: "fixed", unit: "second" }],
    ["minute", { kind: "fixed", unit: "minute" }],
    ["hour", { kind: "fixed", unit: "hour" }],
    ["day", { kind: "fixed", unit: "day" }],
    ["month", { kind: "fixed", unit: "month" }],
    ["sliding:1m", { kind: "sliding", sizeMs: 60_000 }],
    ["sliding:1500ms", { kind: "sliding", sizeMs: 1_500 }],
    ["sliding:h", { kind: "sliding", sizeMs: 3_600_000 }],
    ["bucket:10/s,burst=20", { kind: "bucket", rate: 10, periodMs: 1_000, burst: 20 }],
    ["bucket:100/1m,burst=5", { kind: "bucket", rate: 100, periodMs: 60_000, burst: 5 }],
  ])("%s", (text, window) => {
    expect(parseWindow(text)).toEqual({ ok: true, window });
  });

  it.each<[string, RegExp]>([
    ["week", /window must be one of second, minute, hour, day, month.*got "week"/],
    ["Minute", /window must be one of .*got "Minute"/],
    ["", /window must be one of/],
    ["sliding:", /sliding window needs a duration of at least 1s like "sliding:1m", got "sliding:"/],
    ["sliding:10", /sliding window needs a duration/],
    ["sliding:999ms", /sliding window needs a duration of at least 1s/],
    ["sliding:0s", /sliding window needs a duration/],
    ["bucket:10/s", /token bucket must look like "bucket:10\/s,burst=20", got "bucket:10\/s"/],
    ["bucket:10/fortnight,burst=2", /token bucket must look like/],
    ["bucket:-1/s,burst=2", /token bucket must look like/],
    ["bucket:10/s, burst=2", /token bucket must look like/],
    ["bucket:0/s,burst=2", /token bucket rate and burst must be at least 1 in "bucket:0\/s,burst=2"/],
    ["bucket:1/s,burst=0", /token bucket rate and burst must be at least 1/],
    ["bucket:1/1000000d,burst=1000000", /token bucket burst x period is too large/],
  ])("rejects %j", (text, message) => {
    const parsed = parseWindow(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe("policyName", () => {
  it.each([
    ["requests", "minute", "requests-minute"],
    ["tokens", "sliding:1h", "tokens-sliding-1h"],
    ["requests", "bucket:10/s,burst=20", "requests-bucket-10-s-burst-20"],
  ])("%s x %s -> %s", (dimension, window, name) => {
    expect(policyName(dimension, window)).toBe(name);
  });
});
