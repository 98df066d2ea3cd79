// Ground truth for a replay: over- and under-admission against the calendar windows, the ideal exact limiter, and
// the cost floor (distinct tenant x isolate x window triples that saw traffic).
import type { Workload } from "./workloads.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface Accuracy {
  admitted: number;
  denied: number;
  /** Units admitted beyond the limit, summed over every (tenant, window, period). */
  overAdmitted: number;
  overMinute: number;
  overDay: number;
  /** (tenant, window, period) cells that went over their limit. */
  overCells: number;
  /** Worst admitted / limit over all cells. */
  worstRatio: number;
  /** Denials while every window of the request still had room in the true global count. */
  underAdmitted: number;
  /**
   * Units an exact limiter admits in a (tenant, minute) that this one did not, summed over those cells: capacity
   * lost, as opposed to denials that later admissions in the same window made up for.
   */
  shortfall: number;
}

/**
 * Replays the admitted requests in sequence order against each tenant's calendar minute and day. `admitted[i]` is 1
 * when request i was admitted. Requests of one tick were in flight together, so any order among them is a valid
 * history: the one that favours the limiter is used (a tick's admissions count before its denials).
 */
export function accuracy(w: Workload, admitted: Uint8Array, tickMs: number, ideal: Uint8Array): Accuracy {
  const n = w.tenants.length;
  const curMinute = new Float64Array(n).fill(-1);
  const curDay = new Float64Array(n).fill(-1);
  const minCount = new Float64Array(n);
  const dayCount = new Float64Array(n);
  const out: Accuracy = {
    admitted: 0,
    denied: 0,
    overAdmitted: 0,
    overMinute: 0,
    overDay: 0,
    overCells: 0,
    worstRatio: 0,
    underAdmitted: 0,
    shortfall: 0,
  };
  // Per (tenant, minute): exact admissions minus ours, settled when the tenant's minute changes.
  const cellMinute = new Float64Array(n).fill(-1);
  const cellGap = new Float64Array(n);
  const settle = (k: number) => {
    if (cellGap[k]! > 0) out.shortfall += cellGap[k]!;
    cellGap[k] = 0;
  };
  for (let i = 0; i < w.count; i++) {
    const k = w.tenantOf[i]!;
    const m = Math.floor(w.times[i]! / MINUTE_MS);
    if (cellMinute[k] !== m) {
      settle(k);
      cellMinute[k] = m;
    }
    cellGap[k]! += ideal[i]! - (admitted[i] === 1 ? 1 : 0);
  }
  for (let k = 0; k < n; k++) settle(k);
  const visit = (i: number) => {
    const t = w.times[i]!;
    const k = w.tenantOf[i]!;
    const spec = w.tenants[k]!;
    const m = Math.floor(t / MINUTE_MS);
    const d = Math.floor(t / DAY_MS);
    if (curMinute[k] !== m) {
      curMinute[k] = m;
      minCount[k] = 0;
    }
    if (curDay[k] !== d) {
      curDay[k] = d;
      dayCount[k] = 0;
    }
    if (admitted[i] === 1) {
      out.admitted++;
      minCount[k]!++;
      dayCount[k]!++;
      if (minCount[k]! > spec.minute) {
        out.overMinute++;
        if (minCount[k] === spec.minute + 1) out.overCells++;
      }
      if (dayCount[k]! > spec.day) {
        out.overDay++;
        if (dayCount[k] === spec.day + 1) out.overCells++;
      }
      out.worstRatio = Math.max(out.worstRatio, minCount[k]! / spec.minute, dayCount[k]! / spec.day);
    } else {
      out.denied++;
      if (minCount[k]! + 1 <= spec.minute && dayCount[k]! + 1 <= spec.day) out.underAdmitted++;
    }
  };
  let i = 0;
  while (i < w.count) {
    const tick = Math.floor(w.times[i]! / tickMs);
    let j = i;
    while (j < w.count && Math.floor(w.times[j]! / tickMs) === tick) j++;
    for (let r = i; r < j; r++) if (admitted[r] === 1) visit(r);
    for (let r = i; r < j; r++) if (admitted[r] !== 1) visit(r);
    i = j;
  }
  out.overAdmitted = out.overMinute + out.overDay;
  return out;
}

/** What an exact global limiter admits on this sequence (admit iff every window has room). */
export function idealAdmitted(w: Workload): Uint8Array {
  const n = w.tenants.length;
  const curMinute = new Float64Array(n).fill(-1);
  const curDay = new Float64Array(n).fill(-1);
  const minCount = new Float64Array(n);
  const dayCount = new Float64Array(n);
  const out = new Uint8Array(w.count);
  for (let i = 0; i < w.count; i++) {
    const t = w.times[i]!;
    const k = w.tenantOf[i]!;
    const spec = w.tenants[k]!;
    const m = Math.floor(t / MINUTE_MS);
    const d = Math.floor(t / DAY_MS);
    if (curMinute[k] !== m) {
      curMinute[k] = m;
      minCount[k] = 0;
    }
    if (curDay[k] !== d) {
      curDay[k] = d;
      dayCount[k] = 0;
    }
    if (minCount[k]! + 1 <= spec.minute && dayCount[k]! + 1 <= spec.day) {
      out[i] = 1;
      minCount[k]!++;
      dayCount[k]!++;
    }
  }
  return out;
}

/**
 * The cost floor of leases for one window: an allowance cannot outlive its window, so each (tenant, isolate, minute) that saw
 * traffic needs one exchange. One acquire covers all of a request's limits, and a day period always contains the
 * minute period that opens it, so the minute triples are the floor for minute + day plans.
 */
export function floorTriples(w: Workload, route: Uint8Array, isolates: number): number {
  const last = new Float64Array(w.tenants.length * isolates).fill(-1);
  let triples = 0;
  for (let i = 0; i < w.count; i++) {
    const slot = w.tenantOf[i]! * isolates + route[i]!;
    const m = Math.floor(w.times[i]! / MINUTE_MS);
    if (last[slot] !== m) {
      last[slot] = m;
      triples++;
    }
  }
  return triples;
}
