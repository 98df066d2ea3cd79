// Concurrency slots: one per request in flight, taken in the tenant's scope (its plan's concurrency) and the origin's
// (the policy's origin concurrency), all or nothing, in the store, so the caps hold across isolates. A slot expires
// unless its holder renews it, so an isolate that dies gives its slots back within the slot TTL.
//
// Slots are not leased to isolates in batches (as rate allowance is): a slot comes back at each response end, so a
// batch would have to be returned at the pace it is taken, and spare slots parked in one isolate would be refused to
// requests in others while the cap is small. Each request pays one acquire and one release, and only requests under
// a concurrency limit pay anything.
import type { Clock, Timers } from "../core/clock.ts";
import type { Plan } from "../core/quota.ts";
import type { Breaker } from "../limiter/breaker.ts";
import { withTimeout } from "../limiter/timeout.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { SlotScope, Store } from "../store/store.ts";
import type { SlotScopeKind } from "./waiting-room.ts";

export interface SlotServiceOptions {
  store: Store;
  clock: Clock;
  timers: Timers;
  metrics: Metrics;
  /** The origin's scope: its name (one set of slots per origin) and its limit; null when the origin is not capped. */
  origin: { id: string; limit: number } | null;
  /** A slot not renewed for this long is free again. */
  ttlMs: number;
  storeTimeoutMs: number;
  /** The store's breaker (shared with the limiter): while it is open, slots are not asked of the store at all. */
  breaker?: Pick<Breaker, "allows" | "failure" | "success"> | undefined;
}

export type SlotAttempt =
  /** Taken (hold null: no concurrency limit applies, or the store failed and the tier fails open). */
  | { ok: true; hold: SlotHold | null }
  | { ok: false; scope: SlotScopeKind; limit: number }
  /** The store failed and the tier fails closed. */
  | { ok: false; scope: "store" };

/** One request's slots: released once (response end, client abort, origin failure), renewed until then. */
export class SlotHold {
  readonly id: string;
  readonly tenant: string | undefined;
  private released = false;
  private stopRenewing: (() => void) | undefined;
  private readonly service: SlotService;
  private readonly scopes: SlotScope[];

  constructor(service: SlotService, id: string, scopes: SlotScope[]) {
    this.service = service;
    this.id = id;
    this.scopes = scopes;
    this.tenant = scopes.find((s) => s.kind === "tenant")?.id;
  }

  /** Renews at a third of the TTL, from the holder's own flow, until released or lost. */
  keepAlive(timers: Timers, ttlMs: number): void {
    this.stopRenewing = timers.after(Math.floor(ttlMs / 3), () => {
      this.stopRenewing = undefined;
      if (this.released) return;
      this.service.renew(this.scopes, this.id).then(
        (kept) => {
          if (kept && !this.released) this.keepAlive(timers, ttlMs);
        },
        () => {
          if (!this.released) this.keepAlive(timers, ttlMs);
        },
      );
    });
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Gives the slots back (once; later calls do nothing). */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    this.stopRenewing?.();
    return this.service.giveBack(this.scopes, this.id, this.tenant);
  }
}

/** Only a closed tier refuses while the store is away: an open or degraded one admits without a slot (its rate limits,
 * or their degraded share, still bound it). */
function storeAway(plan: Plan): SlotAttempt {
  return plan.failure === "closed" ? { ok: false, scope: "store" } : { ok: true, hold: null };
}

export class SlotService {
  private readonly o: SlotServiceOptions;
  private seq = 0;
  private prefix: string | undefined;
  private readonly heldByScope = { tenant: 0, origin: 0 };
  /** Told of every release in this isolate (the waiting room gives the next turn). */
  onFreed: (tenant: string | undefined) => void = () => {};

  constructor(o: SlotServiceOptions) {
    this.o = o;
  }

  get originCapped(): boolean {
    return this.o.origin !== null;
  }

  /** The scopes a request of this plan takes a slot in (none: it pays nothing). */
  scopesOf(plan: Plan): SlotScope[] {
    const out: SlotScope[] = [];
    if (plan.concurrency !== undefined)
      out.push({ kind: "tenant", id: plan.tenant, limit: plan.concurrency });
    if (this.o.origin) out.push({ kind: "origin", ...this.o.origin });
    return out;
  }

  /** Slots held by this isolate's requests in flight, per scope. */
  held(): { tenant: number; origin: number } {
    return { ...this.heldByScope };
  }

  /** A slot id unique across isolates: a random isolate prefix (made on first use: Workers forbid random values at
   * global scope) and a counter. */
  private nextId(): string {
    this.prefix ??= Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    return `${this.prefix}-${(this.seq++).toString(36)}`;
  }

  async acquire(plan: Plan): Promise<SlotAttempt> {
    const scopes = this.scopesOf(plan);
    if (scopes.length === 0) return { ok: true, hold: null };
    // A store known to be away is not waited for once per request: the failure policy answers at once.
    if (this.o.breaker && !this.o.breaker.allows()) return storeAway(plan);
    const id = this.nextId();
    const call = this.o.store.acquireSlots(scopes, id, this.o.clock.now(), this.o.ttlMs);
    this.o.metrics.inc("quotagate_store_calls_total", { op: "slots" });
    let grant: Awaited<typeof call>;
    try {
      grant = await withTimeout(call, this.o.storeTimeoutMs);
    } catch (err) {
      this.o.breaker?.failure();
      this.o.metrics.inc("quotagate_store_errors_total", { op: "slots" });
      console.error("quotagate: concurrency slot acquisition failed", err);
      // A grant that arrives after we gave up is given back rather than held until it expires.
      call.then(
        (late) => (late.ok ? this.o.store.releaseSlots(scopes, id).catch(() => undefined) : undefined),
        () => undefined,
      );
      return storeAway(plan);
    }
    this.o.breaker?.success();
    if (!grant.ok) {
      const i = grant.scopes.findIndex((s, k) => s.inUse >= scopes[k]!.limit);
      const full = scopes[Math.max(0, i)]!;
      this.o.metrics.inc("quotagate_slot_refusals_total", { scope: full.kind });
      return { ok: false, scope: full.kind, limit: full.limit };
    }
    for (const s of scopes) this.count(s.kind, 1);
    const hold = new SlotHold(this, id, scopes);
    hold.keepAlive(this.o.timers, this.o.ttlMs);
    return { ok: true, hold };
  }

  /** @internal (SlotHold) */
  async renew(scopes: SlotScope[], id: string): Promise<boolean> {
    this.o.metrics.inc("quotagate_store_calls_total", { op: "slots" });
    const kept = await withTimeout(
      this.o.store.renewSlots(scopes, id, this.o.clock.now(), this.o.ttlMs),
      this.o.storeTimeoutMs,
    );
    if (kept < scopes.length)
      console.error(`quotagate: slot ${id} expired before it was renewed; its request is no longer counted`);
    return kept === scopes.length;
  }

  /** @internal (SlotHold) */
  async giveBack(scopes: SlotScope[], id: string, tenant: string | undefined): Promise<void> {
    for (const s of scopes) this.count(s.kind, -1);
    this.o.metrics.inc("quotagate_store_calls_total", { op: "slots" });
    try {
      await withTimeout(this.o.store.releaseSlots(scopes, id), this.o.storeTimeoutMs);
    } catch (err) {
      // It expires by itself within the slot TTL.
      this.o.metrics.inc("quotagate_store_errors_total", { op: "slots" });
      console.error("quotagate: concurrency slot release failed", err);
    }
    this.onFreed(tenant);
  }

  private count(scope: SlotScopeKind, by: number): void {
    this.heldByScope[scope] += by;
    this.o.metrics.set("quotagate_slots_in_use", this.heldByScope[scope], { scope });
  }
}
