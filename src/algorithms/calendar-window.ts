// Calendar (fixed) windows in UTC: which period an instant falls in, its id and its bounds.
import type { CalendarUnit } from "../core/quota.ts";

export interface Period {
  /** Sortable id used in storage keys: `20261123` (day), `202611231247` (minute), `202611` (month). */
  id: string;
  startMs: number;
  endMs: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The last period computed per unit: every request asks for the current one, and taking the date apart and
 * formatting its id each time was a measurable share of a request's CPU. Frozen, as callers share it. */
const lastPeriod = new Map<CalendarUnit, Period>();

export function calendarPeriod(unit: CalendarUnit, nowMs: number): Period {
  const last = lastPeriod.get(unit);
  if (last && last.startMs <= nowMs && nowMs < last.endMs) return last;
  const p = Object.freeze(computePeriod(unit, nowMs));
  lastPeriod.set(unit, p);
  return p;
}

function computePeriod(unit: CalendarUnit, nowMs: number): Period {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  if (unit === "month") {
    return { id: `${y}${pad(mo + 1)}`, startMs: Date.UTC(y, mo, 1), endMs: Date.UTC(y, mo + 1, 1) };
  }
  const day = d.getUTCDate();
  const base = `${y}${pad(mo + 1)}${pad(day)}`;
  if (unit === "day") {
    const start = Date.UTC(y, mo, day);
    return { id: base, startMs: start, endMs: start + 86_400_000 };
  }
  const h = d.getUTCHours();
  if (unit === "hour") {
    const start = Date.UTC(y, mo, day, h);
    return { id: `${base}${pad(h)}`, startMs: start, endMs: start + 3_600_000 };
  }
  const mi = d.getUTCMinutes();
  if (unit === "minute") {
    const start = Date.UTC(y, mo, day, h, mi);
    return { id: `${base}${pad(h)}${pad(mi)}`, startMs: start, endMs: start + 60_000 };
  }
  const s = d.getUTCSeconds();
  const start = Date.UTC(y, mo, day, h, mi, s);
  return { id: `${base}${pad(h)}${pad(mi)}${pad(s)}`, startMs: start, endMs: start + 1_000 };
}

/** The day id (`YYYYMMDD`) for a `YYYY-MM-DD` date string, or null when it is not a real calendar date. */
export function dayIdFromDate(date: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [, y, mo, d] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d)
  ) {
    return null;
  }
  return `${y}${mo}${d}`;
}

/** `20261123` -> `2026-11-23`. */
export function dateOfDayId(id: string): string {
  return `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;
}

/** The UTC date (`YYYY-MM-DD`) at `nowMs`. */
export function utcDate(nowMs: number): string {
  return dateOfDayId(calendarPeriod("day", nowMs).id);
}
