// What an exchange asks the store for: per limit, the units that must fit and the lease it would like, sized from
// the isolate's recent pace, what is left of the window, and a slow start (a lease at most doubles per grant).
import { leaseWant } from "../algorithms/lease-sizing.ts";
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { Lease, TenantBook } from "../cache/tenant-book.ts";
import type { LimitSpec } from "../core/quota.ts";
import type { AcquireItem } from "../store/store.ts";

export interface LeaseTiming {
  /** Longest span of traffic one lease covers (beyond the next forced exchange). */
  leaseHorizonMs: number;
  /** Validity of a token-bucket lease: tokens taken from the bucket must be spent soon after. */
  bucketLeaseMs: number;
}

/** Units per ms a lease was spent at lately (0 when unknown): the last grant's pace, smoothed with the carried rate. */
export function rateOf(lease: Lease | undefined, now: number): number {
  if (!lease) return 0;
  // Over a short span the pace is noisy, so it counts as at least 250 ms: a burst right after a grant still grows
  // the next lease quickly (a hot tenant reaches full-size leases in a few exchanges).
  const recent = lease.spentSinceGrant / Math.max(250, now - lease.grantedAtMs);
  // Smoothed with the carried rate, so that one burst does not size every later lease.
  return lease.ratePerMs > 0 ? (recent + lease.ratePerMs) / 2 : recent;
}

/**
 * Lease requests for a set of limits. A long window's lease lasts until one horizon past the next forced exchange
 * (the end of the request's shortest calendar window), so both are refreshed in the same round trip.
 */
export function leaseItems(
  book: TenantBook,
  wants: Array<{ limit: LimitSpec; min: number }>,
  atMs: number,
  t: LeaseTiming,
): AcquireItem[] {
  const left = wants.map(({ limit }) =>
    limit.window.kind === "bucket" ? t.bucketLeaseMs : grantPeriod(limit, atMs).endMs - atMs,
  );
  const shortest = Math.min(...left);
  const horizon = shortest < t.leaseHorizonMs ? shortest + t.leaseHorizonMs : t.leaseHorizonMs;
  return wants.map(({ limit, min }, i) => {
    const initialUnits = Math.max(1, Math.min(64, Math.ceil(limit.limit / 100)));
    const held = book.leases.get(limit.id);
    // Leases at most double from one grant to the next (like TCP slow start): a hot isolate reaches full size in a
    // few exchanges, and every isolate drawing hard on a limit has registered as a sharer before grants get big.
    const ceiling = min + 2 * Math.max(initialUnits, held?.lastGrant ?? 0);
    const want = leaseWant({
      limit,
      need: min,
      ratePerMs: rateOf(held, atMs),
      periodLeftMs: left[i]!,
      maxHorizonMs: horizon,
      initialUnits,
    });
    return { limit, min, want: Math.max(min, Math.min(want, ceiling)) };
  });
}
