// The decision: tenant book -> store -> decision, with the failure policy. Exactness rests on one rule: a unit is
// admitted only out of allowance the store granted for the same period, and check-and-spend runs with no `await`
// in between (requests interleave inside an isolate at every await).
import { grantPeriod } from "../algorithms/limit-window.ts";
import { BookCache } from "../cache/book-cache.ts";
import type { TenantBook } from "../cache/tenant-book.ts";
import type { Clock } from "../core/clock.ts";
import { QuotaGateError } from "../core/errors.ts";
import { type Cost, type Decision, type LimitState, type Need, needsOf, type Plan } from "../core/quota.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AcquireItem, AcquireResult, Store } from "../store/store.ts";
import { Breaker } from "./breaker.ts";
import { Exchanges } from "./exchanges.ts";
import { Flusher, type WaitUntil } from "./flusher.ts";
import { leaseItems, rateOf } from "./lease-requests.ts";
import { decision } from "./limit-states.ts";
import type { LimiterOptions } from "./limiter-options.ts";
import { Prefetcher } from "./prefetch.ts";
import { settleIn } from "./settlement.ts";
import { withTimeout } from "./timeout.ts";

export type { LimiterOptions, WaitUntil };

type Settings = Required<Omit<LimiterOptions, "store" | "clock" | "metrics">>;

export class Limiter {
  readonly metrics: Metrics;
  readonly books: BookCache;
  readonly flusher: Flusher;
  readonly breaker: Breaker;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly o: Settings;
  private readonly prefetcher: Prefetcher;
  private readonly exchanges: Exchanges;
  private id: string | undefined;

  constructor(opts: LimiterOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.metrics = opts.metrics;
    this.o = {
      cacheSize: opts.cacheSize,
      cacheBytes: opts.cacheBytes ?? Math.max(1 << 20, opts.cacheSize * 1024),
      cacheTtlMs: opts.cacheTtlMs,
      storeTimeoutMs: opts.storeTimeoutMs,
      leaseHorizonMs: opts.leaseHorizonMs ?? 60_000,
      leaseIdleMs: opts.leaseIdleMs ?? 30_000,
      flushIntervalMs: opts.flushIntervalMs ?? 10_000,
      lazyFlushIntervalMs: opts.lazyFlushIntervalMs ?? 300_000,
      bucketLeaseMs: opts.bucketLeaseMs ?? 1_000,
      prefetchMs: opts.prefetchMs ?? 5_000,
      probeIntervalMs: opts.probeIntervalMs ?? 1_000,
    };
    this.breaker = new Breaker({
      clock: this.clock,
      metrics: this.metrics,
      probeIntervalMs: this.o.probeIntervalMs,
    });
    this.books = new BookCache({
      maxEntries: this.o.cacheSize,
      maxBytes: this.o.cacheBytes,
      clock: this.clock,
      lingerMs: this.o.leaseIdleMs + this.o.lazyFlushIntervalMs,
      onLeave: (book) => this.flusher.adopt(book),
    });
    this.flusher = new Flusher({
      ...this.o,
      store: this.store,
      books: this.books,
      clock: this.clock,
      metrics: this.metrics,
      breaker: this.breaker,
    });
    this.exchanges = new Exchanges({
      store: this.store,
      metrics: this.metrics,
      breaker: this.breaker,
      flusher: this.flusher,
      storeTimeoutMs: this.o.storeTimeoutMs,
      caller: () => this.isolateId,
    });
    this.prefetcher = new Prefetcher({
      store: this.store,
      books: this.books,
      metrics: this.metrics,
      timing: this.o,
      prefetchMs: this.o.prefetchMs,
      caller: () => this.isolateId,
      busy: (tenant) => this.exchanges.running(tenant) !== undefined,
      breaker: this.breaker,
    });
  }

  /** Identifies this isolate to the store's sharer registry (fair split of what is left near a limit). Made on first
   * use: Workers forbid random values at global scope, where the limiter is built. */
  get isolateId(): string {
    this.id ??= Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    return this.id;
  }

  /** Decides a request: all of its limits at once, all or nothing. */
  async decide(plan: Plan, cost: Cost, waitUntil: WaitUntil): Promise<Decision> {
    return this.decideIn(
      this.books.open(plan.tenant, this.clock.now()),
      plan,
      needsOf(plan, cost),
      waitUntil,
    );
  }

  /** Decides with the tenant's book already in hand (the request looked it up once). A decision from the book is
   * returned as it is, not as a promise (in Workers every await costs a turn of the request's promise machinery). */
  decideIn(book: TenantBook, plan: Plan, needs: Need[], waitUntil: WaitUntil): Decision | Promise<Decision> {
    const now = this.clock.now();
    book.roll(now, plan);
    const local = this.tryLocal(book, plan, needs, now);
    if (local) {
      if (local.allowed) this.prefetcher.maybe(book, needs, now, waitUntil);
      return this.finish(local, now, waitUntil);
    }
    return this.decideWithStore(book, plan, needs, waitUntil);
  }

  /** The book could not decide: wait for a refill under way, else exchange with the store. */
  private async decideWithStore(
    book: TenantBook,
    plan: Plan,
    needs: Need[],
    waitUntil: WaitUntil,
  ): Promise<Decision> {
    // Coalesce: while a refill for this tenant is under way, wait for it (bounded) and look again.
    for (let i = 0; i < 4; i++) {
      const running = this.exchanges.running(plan.tenant);
      if (!running) break;
      try {
        await withTimeout(running, this.o.storeTimeoutMs);
      } catch {
        break; // the owner applies the failure policy for itself; we go on with our own attempt
      }
      const now = this.clock.now();
      const again = this.tryLocal(book, plan, needs, now);
      if (again) return this.finish(again, now, waitUntil);
    }
    const d = await this.refill(book, plan, needs, waitUntil);
    return this.finish(d, this.clock.now(), waitUntil);
  }

  /** Decision from the book alone (no I/O), or null when the store must be asked. */
  private tryLocal(book: TenantBook, plan: Plan, needs: Need[], now: number): Decision | null {
    let retryAt = 0;
    for (const { limit, units } of needs) {
      const d = limit.mode === "enforce" ? book.denial(limit, now) : undefined;
      if (d && units > d.available) retryAt = Math.max(retryAt, d.retryAtMs);
    }
    if (retryAt > 0) {
      this.metrics.inc("quotagate_cache_hits_total", { kind: "denial" });
      return decision(plan, book, needs, now, {
        allowed: false,
        reason: "limit",
        local: true,
        retryAtMs: retryAt,
      });
    }
    const asyncDeny = this.asyncDenial(book, plan, needs, now);
    if (asyncDeny) return asyncDeny;
    for (const { limit, units } of needs) {
      if (limit.sync !== "strict") continue;
      if ((book.lease(limit, now)?.allowance ?? 0) < units) {
        this.metrics.inc("quotagate_cache_misses_total", { kind: "lease" });
        return null;
      }
    }
    // Every limit fits: spend, synchronously, right after the check.
    for (const { limit, units } of needs) {
      if (limit.sync === "strict") {
        const lease = book.lease(limit, now)!;
        lease.allowance -= units;
        lease.spentSinceGrant += units;
        lease.lastUsedMs = now;
      } else this.countAsync(book, limit, units, now);
    }
    this.metrics.inc("quotagate_cache_hits_total", { kind: "lease" });
    return decision(plan, book, needs, now, { allowed: true, reason: "ok", local: true });
  }

  /** Async limits decide from local counts in every case. */
  private asyncDenial(book: TenantBook, plan: Plan, needs: Need[], now: number): Decision | null {
    for (const { limit, units } of needs) {
      if (limit.sync !== "async" || limit.mode !== "enforce") continue;
      const a = book.count(limit, now);
      if ((a ? a.known + a.sending + a.unsynced : 0) + units > limit.limit) {
        const retryAtMs = a?.periodEndMs ?? grantPeriod(limit, now).endMs;
        return decision(plan, book, needs, now, { allowed: false, reason: "limit", local: true, retryAtMs });
      }
    }
    return null;
  }

  private countAsync(book: TenantBook, limit: Need["limit"], units: number, now: number): void {
    if (book.countAsync(limit, units, now)) {
      this.flusher.syncSoon();
      this.books.keep(book, now);
    }
  }

  private async refill(book: TenantBook, plan: Plan, needs: Need[], waitUntil: WaitUntil): Promise<Decision> {
    const now = this.clock.now();
    const asyncDeny = this.asyncDenial(book, plan, needs, now);
    if (asyncDeny) return asyncDeny;
    const strict = needs.filter((n) => n.limit.sync === "strict");
    // Reserve what this isolate already holds before awaiting, so interleaved requests cannot spend it twice.
    const reserved = strict.map(({ limit, units }) => {
      const lease = book.lease(limit, now);
      const take = lease ? Math.min(lease.allowance, units) : 0;
      if (lease) lease.allowance -= take;
      return take;
    });
    const all = leaseItems(
      book,
      strict.map((n, i) => ({ limit: n.limit, min: n.units - reserved[i]! })),
      now,
      this.o,
    );
    // A limit this request is covered for, whose lease still holds what it would ask for, stays out of the exchange.
    const send = all.map((it) => it.min > 0 || (book.lease(it.limit, now)?.allowance ?? 0) < it.want);
    const items = all.filter((_, i) => send[i]);
    const unreserve = () =>
      strict.forEach(({ limit }, i) => {
        if (reserved[i] === 0) return;
        const lease = book.lease(limit, now);
        if (lease) lease.allowance += reserved[i]!;
        else
          book.owe({
            tenant: plan.tenant,
            limit,
            periodId: grantPeriod(limit, now).id,
            units: -reserved[i]!,
          });
      });

    const res = this.breaker.allows() ? await this.exchanges.run(book, items, now, waitUntil) : null;
    const after = this.clock.now();
    if (res === null) {
      unreserve();
      return this.onStoreFailure(book, plan, needs, now);
    }
    if (!res.ok) {
      unreserve();
      return this.refused(
        book,
        plan,
        needs,
        items,
        res,
        reserved.filter((_, i) => send[i]),
        after,
      );
    }
    this.metrics.inc("quotagate_lease_grants_total");
    const sentReserved = reserved.filter((_, i) => send[i]);
    res.items.forEach((g, i) => {
      const limit = items[i]!.limit;
      const c = strict.find((n) => n.limit === limit)!.units;
      this.metrics.inc("quotagate_lease_units_granted_total", {}, g.granted);
      const lease = this.absorb(book, limit, g.periodId, sentReserved[i]! + g.granted - c, g, after);
      lease.spentSinceGrant = c;
      lease.lastGrant = g.granted;
      lease.grantedAtMs = after;
      lease.lastUsedMs = after;
    });
    strict.forEach(({ limit, units }, i) => {
      if (send[i]) return;
      // Covered from the lease: the reserved units are this request's.
      const lease = book.lease(limit, after);
      if (lease) {
        lease.spentSinceGrant += units;
        lease.lastUsedMs = after;
      }
    });
    for (const { limit, units } of needs)
      if (limit.sync === "async") this.countAsync(book, limit, units, after);
    this.books.keep(book, after);
    return decision(plan, book, needs, after, { allowed: true, reason: "ok", local: false });
  }

  /** The store refused: what a concurrent refill brought may still serve; else the denial is cached and reported. */
  private refused(
    book: TenantBook,
    plan: Plan,
    needs: Need[],
    items: AcquireItem[],
    res: AcquireResult,
    reserved: number[],
    after: number,
  ): Decision {
    const local = this.tryLocal(book, plan, needs, after);
    if (local?.allowed) return local;
    let retryAt = after;
    res.items.forEach((g, i) => {
      const it = items[i]!;
      if (it.limit.mode === "enforce" && g.available < it.min) {
        retryAt = Math.max(retryAt, g.retryAtMs);
        // Cached up to the TTL: other isolates may return allowance sooner.
        const until = Math.min(g.retryAtMs, after + this.o.cacheTtlMs);
        if (until > after)
          book.deny(it.limit, {
            untilMs: until,
            retryAtMs: g.retryAtMs,
            available: g.available + reserved[i]!,
          });
      }
      this.absorb(book, it.limit, g.periodId, 0, g, after);
    });
    this.books.keep(book, after);
    return decision(plan, book, needs, after, {
      allowed: false,
      reason: "limit",
      local: false,
      retryAtMs: retryAt,
    });
  }

  /** Puts a grant's units into the lease of its period (a lease of another period is settled first). */
  private absorb(
    book: TenantBook,
    limit: Need["limit"],
    periodId: string,
    units: number,
    g: { available: number; resetAtMs: number },
    now: number,
  ) {
    book.roll(now);
    const validUntilMs =
      limit.window.kind === "bucket" ? now + this.o.bucketLeaseMs : grantPeriod(limit, now).endMs;
    let lease = book.leases.get(limit.id);
    if (lease && lease.periodId !== periodId) {
      // Another period: the rate is carried, the rest starts over.
      lease.ratePerMs = rateOf(lease, now);
      book.returnLease(lease, now, true);
      lease.periodId = periodId;
      lease.grantedAtMs = now;
      lease.spentSinceGrant = 0;
    } else if (lease && lease.grantedAtMs < now && lease.spentSinceGrant > 0) {
      lease.ratePerMs = rateOf(lease, now);
    }
    if (!lease) {
      lease = {
        limit,
        periodId,
        validUntilMs,
        allowance: 0,
        storeAvailable: g.available,
        resetAtMs: g.resetAtMs,
        grantedAtMs: now,
        spentSinceGrant: 0,
        lastUsedMs: now,
        ratePerMs: 0,
        lastGrant: 0,
        next: undefined,
      };
      book.leases.set(limit.id, lease);
    }
    lease.limit = limit;
    lease.allowance += units;
    lease.storeAvailable = g.available;
    lease.resetAtMs = g.resetAtMs;
    lease.validUntilMs = validUntilMs;
    return lease;
  }

  /** The store failed or the breaker is open: the tier's failure policy decides. */
  private onStoreFailure(book: TenantBook, plan: Plan, needs: Need[], now: number): Decision {
    const refuse = (reason: "store_unavailable" | "degraded") =>
      decision(plan, book, needs, now, {
        allowed: false,
        reason,
        local: false,
        retryAtMs: now + this.o.probeIntervalMs,
      });
    if (plan.failure === "closed") return refuse("store_unavailable");
    // Degraded: each isolate admits at most its share of each enforced limit per window until the store is back.
    if (plan.failure === "degraded")
      for (const { limit, units } of needs) {
        if (limit.mode !== "enforce" || limit.sync !== "strict") continue;
        const cap = Math.max(1, Math.floor(limit.limit * plan.degradedShare));
        if (book.offlineUnits(limit, now) + units > cap) return refuse("degraded");
      }
    // Admit, and settle the admitted units with the store before its next grant for these windows.
    for (const { limit, units } of needs) {
      if (limit.sync === "strict") book.admitOffline(limit, units, now);
      else this.countAsync(book, limit, units, now);
    }
    this.books.keep(book, now);
    const reason = plan.failure === "degraded" ? "degraded" : "fail_open";
    return decision(plan, book, needs, now, { allowed: true, reason, local: false });
  }

  private finish(d: Decision, now: number, waitUntil: WaitUntil): Decision {
    this.metrics.inc("quotagate_decisions_total", {
      outcome: d.allowed ? "allowed" : "denied",
      reason: d.reason,
    });
    if (d.local) this.metrics.inc("quotagate_local_decisions_total");
    for (const s of d.states)
      if (s.limit.mode === "shadow" && s.exceeded) this.metrics.inc("quotagate_shadow_denials_total");
    const probe = this.breaker.probe(() => withTimeout(this.store.ping(), this.o.storeTimeoutMs));
    if (probe) waitUntil(probe);
    this.flusher.maybeFlush(now, waitUntil);
    return d;
  }

  flush(opts: { returnAll?: boolean } = {}): Promise<void> {
    return this.flusher.flush(opts);
  }

  /** Books what a request cost beyond (positive) or below (negative) what it reserved in one limit's period; no
   * I/O: the flusher sends it (see settlement.ts). */
  settle(tenant: string, limit: Need["limit"], periodId: string, units: number): void {
    settleIn(this.books.peek(tenant), tenant, limit, periodId, units, {
      now: this.clock.now(),
      cacheTtlMs: this.o.cacheTtlMs,
      oweOrphan: (d) => this.flusher.owe(d),
      syncSoon: () => this.flusher.syncSoon(),
    });
  }

  /** Live usage of a tenant's limits: the store's count plus what this isolate holds unspent or still owes. */
  async status(plan: Plan): Promise<LimitState[]> {
    const now = this.clock.now();
    let readings: Awaited<ReturnType<Store["read"]>>;
    try {
      if (!this.breaker.allows()) throw new Error("the store's circuit breaker is open");
      this.metrics.inc("quotagate_store_calls_total", { op: "read" });
      readings = await withTimeout(this.store.read(plan.tenant, plan.limits, now), this.o.storeTimeoutMs);
      this.breaker.success();
    } catch (err) {
      this.metrics.inc("quotagate_store_errors_total", { op: "read" });
      this.breaker.failure();
      console.error("quotagate: usage read failed", err);
      throw new QuotaGateError(
        "store_unavailable",
        "usage could not be read from the quota store; retry shortly",
      );
    }
    const book = this.books.peek(plan.tenant);
    return plan.limits.map((l, i) => {
      const r = readings[i]!;
      const periodId = grantPeriod(l, now).id;
      // Held under any amount: a lease granted before a tier change is counted by the store until it goes back.
      const held = l.sync === "strict" ? (book?.held(l.id, periodId) ?? 0) : 0;
      const a = l.sync === "async" ? book?.count(l, now) : undefined;
      const unsent = a ? a.unsynced + a.sending : 0;
      const queued = (book?.owedFor(l, periodId) ?? 0) + this.flusher.orphanFor(plan.tenant, l, periodId);
      const remaining = Math.min(l.limit, Math.max(0, r.available + held - unsent - queued));
      return { limit: l, cost: 0, remaining, resetAtMs: r.resetAtMs, exceeded: remaining <= 0 };
    });
  }

  /** Cache and outbox sizes of this isolate, for admin stats and health. */
  snapshot() {
    return {
      cacheSize: this.books.size,
      cacheMaxSize: this.books.maxEntries,
      cacheBytes: this.books.byteSize,
      pendingDeltas: this.flusher.pending(),
    };
  }

  /** Returns every lease, sends every count, then empties the isolate cache. */
  async clear(): Promise<void> {
    await this.flusher.flush({ returnAll: true });
    this.books.clear();
  }
}

export function createLimiter(opts: LimiterOptions): Limiter {
  return new Limiter(opts);
}
