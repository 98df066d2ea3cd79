// Acquire exchanges with the store: one round trip per tenant at a time (others coalesce on it), what the tenant owes
// for the same windows settled first, a late grant given back, and the breaker told of every outcome.
import type { TenantBook } from "../cache/tenant-book.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AcquireItem, AcquireResult, Store } from "../store/store.ts";
import type { Breaker } from "./breaker.ts";
import type { Flusher, WaitUntil } from "./flusher.ts";
import { TimeoutError, withTimeout } from "./timeout.ts";

export interface ExchangesOptions {
  store: Store;
  metrics: Metrics;
  breaker: Breaker;
  flusher: Flusher;
  storeTimeoutMs: number;
  /** This isolate's id in the sharer registry. */
  caller: () => string;
}

export class Exchanges {
  private readonly o: ExchangesOptions;
  private readonly inflight = new Map<string, Promise<AcquireResult>>();

  constructor(o: ExchangesOptions) {
    this.o = o;
  }

  /** The tenant's exchange under way, if any (a request short of allowance waits for it and looks again). */
  running(tenant: string): Promise<AcquireResult> | undefined {
    return this.inflight.get(tenant);
  }

  /**
   * One acquire round trip; null when the store failed or timed out (the breaker opens). What the tenant owes for
   * these windows is settled first, so that every grant the store makes counts it.
   */
  async run(
    book: TenantBook,
    items: AcquireItem[],
    now: number,
    waitUntil: WaitUntil,
  ): Promise<AcquireResult | null> {
    const { store, metrics, breaker } = this.o;
    const tenant = book.tenant;
    const started = Date.now();
    const call = this.settle(book, items, now).then((settled) =>
      settled
        ? store.acquire(tenant, items, now, this.o.caller())
        : Promise.reject(new Error("debts unsettled")),
    );
    this.inflight.set(tenant, call);
    // The I/O belongs to this request: keep it alive for the waiters even if this request ends first.
    waitUntil(call.catch(() => undefined));
    metrics.inc("quotagate_store_calls_total", { op: "acquire" });
    try {
      const res = await withTimeout(call, this.o.storeTimeoutMs);
      metrics.observe("quotagate_store_latency_seconds", (Date.now() - started) / 1000, { op: "acquire" });
      breaker.success();
      return res;
    } catch (err) {
      metrics.inc("quotagate_store_errors_total", { op: "acquire" });
      breaker.failure();
      if (err instanceof TimeoutError) this.giveBackLate(tenant, items, call);
      return null;
    } finally {
      if (this.inflight.get(tenant) === call) this.inflight.delete(tenant);
    }
  }

  /** If the store answers after we gave up, its grant is returned rather than stranded. */
  private giveBackLate(tenant: string, items: AcquireItem[], call: Promise<AcquireResult>): void {
    call.then(
      (late) => {
        if (!late.ok) return;
        late.items.forEach((g, i) => {
          if (g.granted > 0)
            this.o.flusher.owe({ tenant, limit: items[i]!.limit, periodId: g.periodId, units: -g.granted });
        });
      },
      () => undefined,
    );
  }

  /** Sends the tenant's debts for these windows (units admitted while the store was away); false when they could not
   * be sent (they stay owed: re-sent after an uncertain failure they can only over-count). */
  private async settle(book: TenantBook, items: AcquireItem[], now: number): Promise<boolean> {
    const owed = book.takeDebts(
      items.map((it) => it.limit),
      now,
    );
    if (owed.length === 0) return true;
    this.o.metrics.inc("quotagate_store_calls_total", { op: "settle" });
    try {
      await withTimeout(this.o.store.flush({ deltas: owed, nowMs: now }), this.o.storeTimeoutMs);
      return true;
    } catch {
      for (const d of owed) this.o.flusher.owe(d);
      return false;
    }
  }
}
