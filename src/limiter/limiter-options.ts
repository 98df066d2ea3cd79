// The limiter's settings: what the composition root passes in, with the defaults the limiter applies.
import type { Clock } from "../core/clock.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Store } from "../store/store.ts";

export interface LimiterOptions {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  /** Tenant books held in the isolate. */
  cacheSize: number;
  /** Byte budget of the isolate cache. */
  cacheBytes?: number;
  /** How long a denial is trusted without asking the store again. */
  cacheTtlMs: number;
  /** How long a request waits for a store round trip (its own or a coalesced one). */
  storeTimeoutMs: number;
  /** Longest span of traffic one lease covers (beyond the next forced exchange). */
  leaseHorizonMs?: number;
  /** Unused allowance idle this long is returned at the next flush. */
  leaseIdleMs?: number;
  /** Flushes (returns, async counts, stats) ride on requests at most this often. */
  flushIntervalMs?: number;
  /** Fleet stats and returns to periods already over are sent at most this often. */
  lazyFlushIntervalMs?: number;
  /** Validity of a token-bucket lease: tokens taken from the bucket must be spent soon after. */
  bucketLeaseMs?: number;
  /** How early, before a calendar window ends, the next window's allowance is fetched in the background. */
  prefetchMs?: number;
  /** While the store is unreachable, how often one request probes it in the background. */
  probeIntervalMs?: number;
}
