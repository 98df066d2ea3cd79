// The usage listing's cursor: what a page hands out decodes to itself; a tampered one decodes to null (a 400 at the
// route), never to a store cursor Redis would refuse.
import { describe, expect, it } from "vitest";
import { USAGE_SHARDS } from "../store/keys.ts";
import { decodeUsageCursor, encodeUsageCursor, type UsageCursor } from "./usage-report.ts";

const base: UsageCursor = { l: "requests:day", p: "20261123", c: "3:17", n: 100 };
const withStoreCursor = (c: string) => encodeUsageCursor({ ...base, c });

describe("decodeUsageCursor", () => {
  it("decodes the cursors pages hand out", () => {
    for (const c of ["0:0", "3:17", `${USAGE_SHARDS - 1}:18446744073709551615`]) {
      expect(decodeUsageCursor(withStoreCursor(c))).toEqual({ ...base, c });
    }
    const resume = { ...base, c: "0", a: "tenant-9" };
    expect(decodeUsageCursor(encodeUsageCursor(resume))).toEqual(resume);
  });

  it.each([
    ["a position past 2^64 - 1", "3:18446744073709551616"],
    ["a 20-digit position past u64", "3:99999999999999999999"],
    ["a position of 21 digits", "3:100000000000000000000"],
    ["a position with leading zeros", "3:0017"],
    ["a shard that does not exist", `${USAGE_SHARDS}:0`],
    ["a shard with leading zeros", "03:5"],
    ["a negative position", "3:-1"],
    ["no position", "3:"],
  ])("refuses %s", (_what, c) => {
    expect(decodeUsageCursor(withStoreCursor(c))).toBeNull();
  });
});
