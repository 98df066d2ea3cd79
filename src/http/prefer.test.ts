// The Prefer: wait parser: delta-seconds (quoted or not, first one wins), anything else ignored.
import { describe, expect, it } from "vitest";
import { preferredWaitSeconds } from "./prefer.ts";

const wait = (...values: string[]) => {
  const h = new Headers();
  for (const v of values) h.append("prefer", v);
  return preferredWaitSeconds(h);
};

describe("Prefer: wait", () => {
  it("reads delta-seconds, quoted or not, among other preferences and in any case", () => {
    expect(wait("wait=90")).toBe(90);
    expect(wait('respond-async, WAIT = "15"')).toBe(15);
    expect(wait("return=minimal; foo=bar", "wait=0")).toBe(0);
    expect(wait("wait=10;param=1")).toBe(10);
  });

  it("takes the first wait preference only", () => {
    expect(wait("wait=5, wait=50")).toBe(5);
  });

  it("caps a huge value as delta-seconds are capped", () => {
    expect(wait("wait=99999999999999999999")).toBe(2_147_483_648);
  });

  it("ignores what is not delta-seconds", () => {
    expect(wait()).toBeUndefined();
    for (const v of ["wait", "wait=", "wait=-1", "wait=1.5", "wait=abc", "wait=1e3", 'wait="x"', "waiting=5"])
      expect(wait(v), v).toBeUndefined();
  });

  it("does not split on a comma inside a quoted string", () => {
    expect(wait('foo="a, wait=3", wait=7')).toBe(7);
  });
});
