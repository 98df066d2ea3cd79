// Window arithmetic common to every limit kind: which storage period a grant lands in, when it resets, and `w`.
import type { LimitSpec } from "../core/quota.ts";
import { calendarPeriod, type Period } from "./calendar-window.ts";
import { slidingBuckets } from "./sliding-window.ts";
import { bucketWindowSec } from "./token-bucket.ts";

/** Storage period a grant made at `nowMs` is counted in. Buckets have one open-ended period, `b`. */
export function grantPeriod(limit: LimitSpec, nowMs: number): Period {
  const w = limit.window;
  switch (w.kind) {
    case "fixed":
      return calendarPeriod(w.unit, nowMs);
    case "sliding": {
      const b = slidingBuckets(w.sizeMs, nowMs);
      return { id: `s${b.index}`, startMs: b.startMs, endMs: b.endMs };
    }
    case "bucket":
      return { id: "b", startMs: nowMs, endMs: nowMs + bucketWindowSec(w) * 1000 };
  }
}

/** The previous sliding bucket's period id, for reading its weight. */
export function previousSlidingPeriodId(sizeMs: number, nowMs: number): string {
  return `s${slidingBuckets(sizeMs, nowMs).index - 1}`;
}

/** How long a period's stored counter must live: to its end, plus one more window for a sliding bucket (it is read
 * as "previous"), plus a grace so late flushes still land. */
export function retentionEndMs(limit: LimitSpec, period: Period, graceMs: number): number {
  const extra = limit.window.kind === "sliding" ? limit.window.sizeMs : 0;
  return period.endMs + extra + graceMs;
}

/** The `w` parameter of RateLimit-Policy: window length in seconds. */
export function windowSec(limit: LimitSpec, nowMs: number): number {
  const w = limit.window;
  switch (w.kind) {
    case "fixed": {
      const p = calendarPeriod(w.unit, nowMs);
      return Math.round((p.endMs - p.startMs) / 1000);
    }
    case "sliding":
      return Math.max(1, Math.round(w.sizeMs / 1000));
    case "bucket":
      return bucketWindowSec(w);
  }
}
