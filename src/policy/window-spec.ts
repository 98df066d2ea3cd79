// Window strings of the policy: `minute`, `sliding:1h`, `bucket:10/s,burst=20`, parsed into WindowSpec.
import type { CalendarUnit, WindowSpec } from "../core/quota.ts";

const CALENDAR: readonly CalendarUnit[] = ["second", "minute", "hour", "day", "month"];
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `1m`, `1h`, `s` (one second) -> milliseconds, or null. */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d*)(ms|s|m|h|d)$/.exec(text);
  if (!m) return null;
  const n = m[1] === "" ? 1 : Number(m[1]);
  const ms = n * UNIT_MS[m[2]!]!;
  // The product too must be an exact integer: window arithmetic (and the Lua mirror) relies on it.
  if (!Number.isSafeInteger(n) || n <= 0 || !Number.isSafeInteger(ms)) return null;
  return ms;
}

export type ParsedWindow = { ok: true; window: WindowSpec } | { ok: false; message: string };

export function parseWindow(text: string): ParsedWindow {
  if ((CALENDAR as readonly string[]).includes(text))
    return { ok: true, window: { kind: "fixed", unit: text as CalendarUnit } };
  if (text.startsWith("sliding:")) {
    const sizeMs = parseDurationMs(text.slice(8));
    if (sizeMs === null || sizeMs < 1000) {
      return {
        ok: false,
        message: `sliding window needs a duration of at least 1s like "sliding:1m", got "${text}"`,
      };
    }
    return { ok: true, window: { kind: "sliding", sizeMs } };
  }
  if (text.startsWith("bucket:")) {
    const m = /^bucket:(\d+)\/([0-9a-z]+),burst=(\d+)$/.exec(text);
    const periodMs = m ? parseDurationMs(m[2]!) : null;
    if (!m || periodMs === null) {
      return { ok: false, message: `token bucket must look like "bucket:10/s,burst=20", got "${text}"` };
    }
    const rate = Number(m[1]);
    const burst = Number(m[3]);
    if (rate < 1 || burst < 1)
      return { ok: false, message: `token bucket rate and burst must be at least 1 in "${text}"` };
    // Milli-unit arithmetic must stay exact in doubles (see algorithms/token-bucket.ts).
    if (burst * periodMs * 1000 > Number.MAX_SAFE_INTEGER) {
      return { ok: false, message: `token bucket burst x period is too large in "${text}"` };
    }
    return { ok: true, window: { kind: "bucket", rate, periodMs, burst } };
  }
  return {
    ok: false,
    message: `window must be one of ${CALENDAR.join(", ")}, "sliding:<duration>" or "bucket:<rate>/<period>,burst=<n>", got "${text}"`,
  };
}

/** Header-safe policy name for a limit: `requests-minute`, `tokens-sliding-1h`, `requests-bucket-10-s-burst-20`. */
export function policyName(dimension: string, windowText: string): string {
  return `${dimension}-${windowText}`.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/-+$/, "");
}
