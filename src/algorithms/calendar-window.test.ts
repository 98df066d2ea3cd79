// Calendar windows: UTC bounds and ids of every unit, month lengths, and date-string validation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CalendarUnit } from "../core/quota.ts";
import { calendarPeriod, dayIdFromDate } from "./calendar-window.ts";

const at = (iso: string) => Date.parse(iso);

describe("calendarPeriod", () => {
  const now = at("2026-11-23T12:47:05.250Z");

  it.each<[CalendarUnit, string, string, string]>([
    ["second", "20261123124705", "2026-11-23T12:47:05.000Z", "2026-11-23T12:47:06.000Z"],
    ["minute", "202611231247", "2026-11-23T12:47:00.000Z", "2026-11-23T12:48:00.000Z"],
    ["hour", "2026112312", "2026-11-23T12:00:00.000Z", "2026-11-23T13:00:00.000Z"],
    ["day", "20261123", "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z"],
    ["month", "202611", "2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"],
  ])("%s: id %s, [%s, %s)", (unit, id, start, end) => {
    const p = calendarPeriod(unit, now);
    expect(p).toEqual({ id, startMs: at(start), endMs: at(end) });
  });

  it("pads single-digit fields", () => {
    expect(calendarPeriod("second", at("2027-01-02T03:04:05Z")).id).toBe("20270102030405");
  });

  it("a period's start belongs to it and its end belongs to the next one (UTC boundaries)", () => {
    const midnight = at("2026-11-24T00:00:00Z");
    expect(calendarPeriod("day", midnight - 1).id).toBe("20261123");
    expect(calendarPeriod("day", midnight).id).toBe("20261124");
    expect(calendarPeriod("minute", midnight - 1).id).toBe("202611232359");
    expect(calendarPeriod("minute", midnight).id).toBe("202611240000");
  });

  it("crosses the year boundary", () => {
    const p = calendarPeriod("month", at("2026-12-31T23:59:59.999Z"));
    expect(p).toEqual({
      id: "202612",
      startMs: at("2026-12-01T00:00:00Z"),
      endMs: at("2027-01-01T00:00:00Z"),
    });
    expect(calendarPeriod("month", p.endMs).id).toBe("202701");
  });

  it.each([
    ["2026-01-15", 31],
    ["2026-02-15", 28],
    ["2028-02-15", 29], // leap year
    ["2100-02-15", 28], // divisible by 100, not a leap year
    ["2000-02-15", 29], // divisible by 400, a leap year
    ["2026-04-15", 30],
    ["2026-12-15", 31],
  ])("month of %s has %i days", (date, days) => {
    const p = calendarPeriod("month", at(`${date}T10:00:00Z`));
    expect((p.endMs - p.startMs) / 86_400_000).toBe(days);
  });

  it("every instant lies in [start, end) and the next period starts where this one ends (property)", () => {
    const units: CalendarUnit[] = ["second", "minute", "hour", "day", "month"];
    fc.assert(
      fc.property(
        fc.constantFrom(...units),
        fc.integer({ min: at("1970-01-01T00:00:00Z"), max: at("2999-12-31T23:59:59.999Z") }),
        (unit, t) => {
          const p = calendarPeriod(unit, t);
          expect(p.startMs).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(p.endMs);
          expect(calendarPeriod(unit, p.startMs)).toEqual(p);
          expect(calendarPeriod(unit, p.endMs - 1)).toEqual(p);
          const next = calendarPeriod(unit, p.endMs);
          expect(next.startMs).toBe(p.endMs);
          // Ids sort like time (same length, digits only).
          expect(next.id > p.id).toBe(true);
          expect(next.id).toHaveLength(p.id.length);
        },
      ),
    );
  });
});

describe("dayIdFromDate", () => {
  it.each([
    ["2026-11-23", "20261123"],
    ["2028-02-29", "20280229"],
    ["2000-02-29", "20000229"],
    ["2026-12-31", "20261231"],
    ["2026-01-01", "20260101"],
  ])("%s -> %s", (date, id) => {
    expect(dayIdFromDate(date)).toBe(id);
  });

  it.each([
    "2026-02-29", // not a leap year
    "2100-02-29", // century, not a leap year
    "2026-02-30",
    "2026-04-31",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "2026-01-32",
    "20261123",
    "2026-1-02",
    "2026-01-2",
    " 2026-01-02",
    "2026-01-02 ",
    "2026-01-02T00:00:00Z",
    "2026/01/02",
    "",
    "abcd-ef-gh",
  ])("rejects %j", (date) => {
    expect(dayIdFromDate(date)).toBeNull();
  });

  it("agrees with calendarPeriod for every day (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: at("1970-01-01T00:00:00Z"), max: at("2999-12-31T23:59:59Z") }), (t) => {
        const iso = new Date(t).toISOString().slice(0, 10);
        expect(dayIdFromDate(iso)).toBe(calendarPeriod("day", t).id);
      }),
    );
  });
});
