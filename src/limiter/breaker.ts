// The store's circuit breaker: after a store call fails, requests that need the store are answered by their tier's
// failure policy at once instead of each waiting for a timeout, and one background probe per interval finds out when
// the store is back. Recovery therefore takes at most one probe interval plus one round trip.
import type { Clock } from "../core/clock.ts";
import type { Metrics } from "../metrics/metrics.ts";

export type BreakerState = "closed" | "open";

export interface BreakerOptions {
  clock: Clock;
  metrics: Metrics;
  /** How often, while open, one request starts a background probe of the store. */
  probeIntervalMs: number;
}

export class Breaker {
  private readonly o: BreakerOptions;
  private openedAtMs: number | null = null;
  private lastProbeAtMs = 0;
  private probing = false;
  /** Store failures seen since the breaker last closed. */
  failures = 0;

  constructor(o: BreakerOptions) {
    this.o = o;
    o.metrics.set("quotagate_store_breaker_open", 0);
  }

  get state(): BreakerState {
    return this.openedAtMs === null ? "closed" : "open";
  }

  /** When the breaker opened (epoch ms), or null while closed. */
  get openedAt(): number | null {
    return this.openedAtMs;
  }

  /** True when a store call may be tried now. */
  allows(): boolean {
    return this.openedAtMs === null;
  }

  /** A store call failed: the breaker opens (if it was closed). */
  failure(): void {
    this.failures++;
    if (this.openedAtMs !== null) return;
    this.openedAtMs = this.o.clock.now();
    this.lastProbeAtMs = this.openedAtMs;
    this.o.metrics.set("quotagate_store_breaker_open", 1);
    this.o.metrics.inc("quotagate_store_breaker_transitions_total", { to: "open" });
  }

  /** A store call succeeded: the breaker closes (if it was open). */
  success(): void {
    if (this.openedAtMs === null) return;
    this.openedAtMs = null;
    this.failures = 0;
    this.o.metrics.set("quotagate_store_breaker_open", 0);
    this.o.metrics.inc("quotagate_store_breaker_transitions_total", { to: "closed" });
  }

  /** While open, at most one probe per interval: returns the probe to run in the background, or null. */
  probe(ping: () => Promise<void>): Promise<void> | null {
    const now = this.o.clock.now();
    if (this.openedAtMs === null || this.probing || now - this.lastProbeAtMs < this.o.probeIntervalMs)
      return null;
    this.probing = true;
    this.lastProbeAtMs = now;
    this.o.metrics.inc("quotagate_store_calls_total", { op: "probe" });
    return ping().then(
      () => {
        this.probing = false;
        this.success();
      },
      () => {
        this.probing = false;
        this.o.metrics.inc("quotagate_store_errors_total", { op: "probe" });
      },
    );
  }
}
