// The admin usage listing: one UTC day of one dimension's day-window usage, paged over the store's scanUsage (HSCAN
// shard after shard, never a whole-hash read) with exact page sizes and an opaque cursor. The admin route and the
// real-Redis integration test run this same code.
import { dateOfDayId, dayIdFromDate } from "../algorithms/calendar-window.ts";
import type { LimitSpec } from "../core/quota.ts";
import { USAGE_SHARDS } from "../store/keys.ts";
import type { Store } from "../store/store.ts";

/** Where a listing stopped. `a` is set when a store batch held more tenants than the page had room for: the next page
 * re-issues the same scan (same store cursor `c`, same count `n`) and keeps the tenants sorting after `a`. */
export interface UsageCursor {
  /** Limit id, e.g. `requests:day`. */
  l: string;
  /** Period id, e.g. `20261123`. */
  p: string;
  /** The store's scan cursor. */
  c: string;
  /** Count asked of the store when the cursor was made. */
  n: number;
  /** Last tenant returned out of the batch scanned from `c`. */
  a?: string;
}

const toBase64Url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64Url = (s: string) => atob(s.replace(/-/g, "+").replace(/_/g, "/"));

export function encodeUsageCursor(c: UsageCursor): string {
  return toBase64Url(JSON.stringify(c));
}

/** Largest HSCAN cursor Redis accepts (an unsigned 64-bit integer); a larger one fails in Redis itself. */
const MAX_SCAN_POSITION = 18_446_744_073_709_551_615n;

/** Both stores' scan cursors: "0" (the start) or "<shard>:<position>", a shard that exists and a position a u64
 * holds, without leading zeros. */
function isStoreCursor(c: string): boolean {
  if (c === "0") return true;
  const m = /^(0|[1-9]\d{0,2}):(0|[1-9]\d{0,19})$/.exec(c);
  return m !== null && Number(m[1]) < USAGE_SHARDS && BigInt(m[2]!) <= MAX_SCAN_POSITION;
}

/** The cursor a previous page returned, or null when the text is not one. */
export function decodeUsageCursor(text: string): UsageCursor | null {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(text)) return null;
  let v: unknown;
  try {
    v = JSON.parse(fromBase64Url(text));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { l, p, c, n, a } = v as Record<string, unknown>;
  if (typeof l !== "string" || !/^[A-Za-z0-9_.-]{1,64}:day$/.test(l)) return null;
  if (typeof p !== "string" || !/^\d{8}$/.test(p)) return null;
  if (dayIdFromDate(dateOfDayId(p)) !== p) return null;
  if (typeof c !== "string" || !isStoreCursor(c)) return null;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10_000) return null;
  if (a !== undefined && (typeof a !== "string" || a.length === 0 || a.length > 256)) return null;
  // Store cursor "0" is where a listing starts (and where it ends): only a resume inside the first batch has it.
  if (c === "0" && a === undefined) return null;
  return { l, p, c, n, ...(a === undefined ? {} : { a }) };
}

export interface UsagePageResult {
  entries: Array<[tenant: string, units: number]>;
  next: UsageCursor | null;
}

/**
 * Up to `pageSize` tenants of one period, resuming at `from`. Every tenant present for the whole listing is returned
 * once when the hashes do not change meanwhile; under concurrent writes the HSCAN guarantees apply (a tenant added
 * meanwhile may be missed, one may be listed twice).
 */
export async function listUsagePage(
  store: Store,
  limit: LimitSpec,
  periodId: string,
  pageSize: number,
  from: UsageCursor | null,
): Promise<UsagePageResult> {
  const out: Array<[string, number]> = [];
  const seen = new Set<string>();
  let cursor = from?.c ?? "0";
  let after = from?.a;
  let count = from?.n ?? pageSize;
  for (;;) {
    const want = after === undefined ? pageSize - out.length : count;
    const page = await store.scanUsage(limit, periodId, cursor, want);
    const batch = page.entries
      .filter(([t]) => (after === undefined || t > after) && !seen.has(t))
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    const room = pageSize - out.length;
    if (batch.length > room) {
      out.push(...batch.slice(0, room));
      return { entries: out, next: { l: limit.id, p: periodId, c: cursor, n: want, a: out.at(-1)![0] } };
    }
    for (const e of batch) {
      out.push(e);
      seen.add(e[0]);
    }
    if (page.cursor === "0") return { entries: out, next: null };
    cursor = page.cursor;
    after = undefined;
    count = pageSize;
    if (out.length >= pageSize)
      return { entries: out, next: { l: limit.id, p: periodId, c: cursor, n: count } };
  }
}

export interface UsageReportInput {
  /** The day limit whose usage is listed. */
  limit: LimitSpec;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  pageSize: number;
  cursor: UsageCursor | null;
  /** The day limit of `dimension` that applies to a tenant, if known. */
  dayLimitOf: (tenant: string) => number | undefined;
  /** Units the caller's isolate holds leased and unspent for a tenant in this period: the store counts them as
   * taken, the listing does not. */
  heldOf?: (tenant: string, periodId: string) => number;
}

export interface UsageReport {
  date: string;
  dimension: string;
  period_id: string;
  tenants: Record<string, number | "EXCEEDED">;
  statistics: {
    total_tenants: number;
    exceeded_tenants: number;
    active_tenants: number;
    returned: number;
    /** Units subtracted from this page because the serving isolate holds them unspent. */
    leased_units_excluded: number;
    limit: number;
    truncated: boolean;
  };
  next_cursor: string | null;
}

/** One page of the day's usage of `dimension`: units per tenant, "EXCEEDED" once a tenant's day limit is reached. */
export async function usageReport(store: Store, input: UsageReportInput): Promise<UsageReport> {
  const periodId = dayIdFromDate(input.date);
  if (periodId === null) throw new RangeError(`not a calendar date: ${input.date}`);
  const limit = input.limit;
  const [page, size] = await Promise.all([
    listUsagePage(store, limit, periodId, input.pageSize, input.cursor),
    store.usageSize(limit, periodId),
  ]);
  let exceeded = 0;
  let active = 0;
  let excluded = 0;
  const tenants = Object.fromEntries(
    page.entries.map(([tenant, counted]): [string, number | "EXCEEDED"] => {
      const held = Math.min(counted, input.heldOf?.(tenant, periodId) ?? 0);
      excluded += held;
      const units = counted - held;
      const cap = input.dayLimitOf(tenant);
      if (cap !== undefined && units >= cap) {
        exceeded++;
        return [tenant, "EXCEEDED"];
      }
      if (units > 0) active++;
      return [tenant, units];
    }),
  );
  return {
    date: input.date,
    dimension: limit.dimension,
    period_id: periodId,
    tenants,
    statistics: {
      total_tenants: size.tenants,
      exceeded_tenants: exceeded,
      active_tenants: active,
      returned: page.entries.length,
      leased_units_excluded: excluded,
      limit: input.pageSize,
      truncated: page.next !== null,
    },
    next_cursor: page.next ? encodeUsageCursor(page.next) : null,
  };
}
