// The deny list as an isolate applies it: one copy per isolate, read whole from the store when it is older than the
// cache TTL (one read shared by the requests that find it stale, none on the other requests), and the admin
// operations that change it. A store that fails keeps the last copy in force (none: nothing is denied) and is asked
// again a few seconds later: the list blocks abuse, it must not take the gateway down with the store.
import type { Clock } from "../core/clock.ts";
import type { DenyEntry, DenyKind } from "../core/deny.ts";
import { QuotaGateError } from "../core/errors.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { compileDenyRules, type DenyRules } from "../policy/deny-rules.ts";
import type { Store } from "../store/store.ts";
import { withTimeout } from "./timeout.ts";

export type { DenyEntry, DenyKind, DenyRules };

export interface DenyListOptions {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  /** How long an isolate's copy is trusted: a change reaches every isolate within it. */
  cacheTtlMs: number;
  storeTimeoutMs: number;
}

/** How long the last copy serves after the store failed to answer before it is asked again. */
const RETRY_MS = 5_000;

export class DenyList {
  private readonly o: DenyListOptions;
  private current: DenyRules | null = null;
  private freshUntilMs = Number.NEGATIVE_INFINITY;
  private loading: Promise<DenyRules> | null = null;
  /** Bumped by this isolate's own changes: a read that started before one must not be trusted for a whole TTL. */
  private generation = 0;

  constructor(o: DenyListOptions) {
    this.o = o;
  }

  get cacheTtlMs(): number {
    return this.o.cacheTtlMs;
  }

  /** The rules requests are checked against; the store is read only when this isolate's copy is stale. The copy
   * itself when it is fresh (almost every request), spared an await. */
  rules(): DenyRules | Promise<DenyRules> {
    if (this.current && this.o.clock.now() < this.freshUntilMs) return this.current;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Counts a request the list refused. */
  blocked(entry: DenyEntry): void {
    this.o.metrics.inc("quotagate_deny_blocks_total", { kind: entry.kind });
  }

  private async load(): Promise<DenyRules> {
    const now = this.o.clock.now();
    const generation = this.generation;
    this.o.metrics.inc("quotagate_store_calls_total", { op: "deny" });
    const started = Date.now();
    try {
      const entries = await withTimeout(this.o.store.getDenyList(), this.o.storeTimeoutMs);
      this.o.metrics.observe("quotagate_store_latency_seconds", (Date.now() - started) / 1000, {
        op: "deny",
      });
      this.current = compileDenyRules(entries);
      this.freshUntilMs = generation === this.generation ? now + this.o.cacheTtlMs : Number.NEGATIVE_INFINITY;
    } catch (err) {
      this.o.metrics.inc("quotagate_store_errors_total", { op: "deny" });
      console.error("quotagate: deny list read failed; the last copy stays in force", err);
      this.current ??= compileDenyRules([]);
      this.freshUntilMs = now + Math.min(RETRY_MS, this.o.cacheTtlMs);
    }
    this.o.metrics.set("quotagate_deny_list_entries", this.current.size);
    return this.current;
  }

  /** A store round trip of an admin operation: counted once; a failure becomes store_unavailable, whose text never
   * quotes the store's error. */
  private async fromStore<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.o.metrics.inc("quotagate_store_calls_total", { op: "admin" });
    try {
      return await call();
    } catch (err) {
      this.o.metrics.inc("quotagate_store_errors_total", { op: "admin" });
      console.error(`quotagate: the store failed while ${what}`, err);
      throw new QuotaGateError("store_unavailable", `the quota store failed while ${what}; retry shortly`);
    }
  }

  /** Every entry as the store holds it now (this isolate's copy is refreshed with it). */
  async list(): Promise<DenyEntry[]> {
    const entries = await this.fromStore("reading the deny list", () => this.o.store.getDenyList());
    this.current = compileDenyRules(entries);
    this.freshUntilMs = this.o.clock.now() + this.o.cacheTtlMs;
    this.o.metrics.set("quotagate_deny_list_entries", this.current.size);
    return entries;
  }

  /** Adds (or replaces) an entry of a normal value; this isolate applies it at once, the others within the TTL. */
  async add(kind: DenyKind, value: string, reason: string | undefined): Promise<DenyEntry> {
    const entry: DenyEntry = {
      kind,
      value,
      ...(reason === undefined ? {} : { reason }),
      createdAtMs: this.o.clock.now(),
    };
    await this.fromStore("writing the deny list", () => this.o.store.putDeny(entry));
    this.changed();
    return entry;
  }

  /** Removes an entry; false when there was none. */
  async remove(kind: DenyKind, value: string): Promise<boolean> {
    const removed = await this.fromStore("writing the deny list", () => this.o.store.deleteDeny(kind, value));
    this.changed();
    return removed;
  }

  private changed(): void {
    this.generation++;
    this.freshUntilMs = Number.NEGATIVE_INFINITY;
  }
}
