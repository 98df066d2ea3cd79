// The admission of one request: its rate decision (asked of the quota service), then its concurrency slots, and,
// when its tier lets it wait, a place in the waiting room instead of a refusal. Rate units a request was granted are
// held while it waits for a slot and given back if it never reaches the origin, so a refused request consumes
// nothing. No quota arithmetic here: every retry asks the quota service (or the slot store) again.
import type { Clock, Timers } from "../core/clock.ts";
import type { Cost, Decision, WaitRules } from "../core/quota.ts";
import type { WaitUntil } from "../limiter/flusher.ts";
import type { PlanRequest } from "../limiter/plan-resolver.ts";
import type { QuotaService, Ruling } from "../limiter/quota-service.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Store } from "../store/store.ts";
import type { QueueOrder } from "./fair-tenant-queue.ts";
import { type SlotHold, SlotService, type SlotServiceOptions } from "./slots.ts";
import { type QueueSnapshot, queueHealth } from "./wait-stats.ts";
import { type Blocked, type SlotScopeKind, type Step, WaitingRoom } from "./waiting-room.ts";

export interface AdmitRequest {
  who: PlanRequest;
  cost: Cost;
  waitUntil: WaitUntil;
  /** Aborted when the client goes away. */
  signal?: AbortSignal | undefined;
  /** Seconds the client asked to wait (`Prefer: wait`), undefined when it did not ask. */
  preferWaitSec?: number | undefined;
}

export type Refusal =
  /** The rate decision refused (429, or 503 when the store failed and the tier fails closed): see the decision. */
  | { kind: "rate" }
  | { kind: "slot"; scope: SlotScopeKind; limit: number }
  /** Slots could not be taken (store failure) and the tier fails closed. */
  | { kind: "store" }
  | { kind: "queue_full"; bound: "tenant" | "global"; maxDepth: number };

export interface Admission {
  admitted: boolean;
  /** The last rate decision: its RateLimit headers go on the response. */
  decision: Decision;
  /** The request's slots, to release when its response ends (null: none taken). */
  hold: SlotHold | null;
  refusal: Refusal | null;
  /** Set when the request could wait: how long it waited (0: it did not have to) and the `Prefer: wait` honoured. */
  waited: { ms: number; preferenceApplied: number | null } | null;
  /** For a refusal other than the rate decision's: seconds to come back after. */
  retryAfterSec: number | null;
}

/** A wait's budget: the tier's default, or what the client prefers up to the tier's maximum (null: not asked). */
export function waitBudget(
  rules: WaitRules | undefined,
  preferSec: number | undefined,
): { ms: number; applied: number | null } {
  if (!rules || rules.maxMs <= 0) return { ms: 0, applied: null };
  if (preferSec === undefined) return { ms: rules.defaultMs, applied: null };
  const ms = Math.min(preferSec * 1000, rules.maxMs);
  return { ms, applied: Math.floor(ms / 1000) };
}

type Outcome = { ok: true; hold: SlotHold | null } | { ok: false; refusal: Refusal };

/** One request's state across its attempts. */
interface Pending {
  req: AdmitRequest;
  ruling: Ruling;
  /** Limit of the slot scope that refused it last. */
  slotLimit: number;
  /** It waits (or would wait) in the slot queue: its attempts are its turns there. */
  slotQueued: boolean;
  refunded: boolean;
}

export interface GateOptions {
  quota: Pick<QuotaService, "rule" | "refund">;
  slots: SlotService;
  room: WaitingRoom<Outcome>;
  clock: Clock;
  /** Retry-After of a slot refusal, seconds. */
  slotRetryAfterSec: number;
}

export class Gate {
  private readonly o: GateOptions;

  constructor(o: GateOptions) {
    this.o = o;
  }

  /** The admission, as a value when it needed no I/O: in Workers every await costs a turn of the request's promise
   * machinery, and most requests are decided from the isolate's book with no slot to take. */
  admit(req: AdmitRequest): Admission | Promise<Admission> {
    const startMs = this.o.clock.now();
    const ruling = this.o.quota.rule(req.who, req.cost, req.waitUntil);
    if (ruling instanceof Promise) return ruling.then((r) => this.admitRuled(req, r, startMs));
    return this.admitRuled(req, ruling, startMs);
  }

  private admitRuled(req: AdmitRequest, ruling: Ruling, startMs: number): Admission | Promise<Admission> {
    const p: Pending = { req, ruling, slotLimit: 0, slotQueued: false, refunded: false };
    const budget = waitBudget(ruling.plan.wait, req.preferWaitSec);
    const mayWait = budget.ms > 0 ? { ms: 0, preferenceApplied: budget.applied } : null;
    const first = this.settled(p);
    if (first?.done) return this.finish(p, first.value, mayWait);
    return this.admitLater(p, first, { budget, mayWait, startMs });
  }

  /** An admission that takes slots from the store or waits. */
  private async admitLater(
    p: Pending,
    settled: Blocked | null,
    o: { budget: ReturnType<typeof waitBudget>; mayWait: Admission["waited"]; startMs: number },
  ): Promise<Admission> {
    const { req } = p;
    const { budget, mayWait, startMs } = o;
    const rules = p.ruling.plan.wait;
    const first = settled ?? (await this.takeSlots(p));
    if (first.done) return this.finish(p, first.value, mayWait);
    const deadlineMs = startMs + budget.ms;
    if (!rules || budget.ms <= 0 || (first.wake === "time" && first.atMs > deadlineMs))
      return this.refuse(p, first, mayWait);
    const end = await this.o.room.wait({
      tenant: p.ruling.plan.tenant,
      weight: rules.weight,
      maxDepth: rules.maxDepth,
      deadlineMs,
      signal: req.signal,
      first,
      attempt: () => this.step(p, false),
      discard: (value) => this.undo(p, value),
    });
    if (end.kind === "full") {
      const out = this.refuse(p, first, mayWait);
      return { ...out, refusal: { kind: "queue_full", bound: end.bound, maxDepth: end.maxDepth } };
    }
    const waited = { ms: end.waitedMs, preferenceApplied: budget.applied };
    return end.kind === "done" ? this.finish(p, end.value, waited) : this.refuse(p, end.last, waited);
  }

  /** One attempt: the rate decision (again, unless its units are held), then the slots. */
  private async step(p: Pending, first: boolean): Promise<Step<Outcome>> {
    if (!first && !p.ruling.decision.allowed)
      p.ruling = await this.o.quota.rule(p.req.who, p.req.cost, p.req.waitUntil);
    return this.settled(p) ?? this.takeSlots(p);
  }

  /** The attempt's outcome when no slot has to be asked of the store: refused by its rate decision, allowed with no
   * slot to take, or queued behind requests waiting for one; null when its slots must be acquired. */
  private settled(p: Pending): Step<Outcome> | null {
    const d = p.ruling.decision;
    if (!d.allowed) {
      const at = d.retryAtMs;
      // Only a limit's refusal is worth waiting for (a store outage or a cost above a whole window is not).
      if (d.reason !== "limit" || at === undefined || !Number.isFinite(at))
        return { done: true, value: { ok: false, refusal: { kind: "rate" } } };
      return { done: false, wake: "time", atMs: at };
    }
    const scopes = this.o.slots.scopesOf(p.ruling.plan);
    if (scopes.length === 0) return { done: true, value: { ok: true, hold: null } };
    if (!p.slotQueued) {
      // Slots that waiting requests are queued for are theirs first: a request not yet queued for one (new, or
      // just admitted by its limits after waiting for them) queues behind them.
      const claim = this.o.room.slotsClaimed(p.ruling.plan.tenant, this.o.slots.originCapped);
      if (claim) {
        p.slotLimit = scopes.find((s) => s.kind === claim)?.limit ?? 0;
        p.slotQueued = true;
        return { done: false, wake: "slot", scope: claim };
      }
    }
    return null;
  }

  private async takeSlots(p: Pending): Promise<Step<Outcome>> {
    const s = await this.o.slots.acquire(p.ruling.plan);
    if (s.ok) return { done: true, value: { ok: true, hold: s.hold } };
    if (s.scope === "store") return { done: true, value: { ok: false, refusal: { kind: "store" } } };
    p.slotLimit = s.limit;
    p.slotQueued = true;
    return { done: false, wake: "slot", scope: s.scope };
  }

  private finish(p: Pending, out: Outcome, waited: Admission["waited"]): Admission {
    if (out.ok)
      return {
        admitted: true,
        decision: p.ruling.decision,
        hold: out.hold,
        refusal: null,
        waited,
        retryAfterSec: null,
      };
    this.giveBack(p);
    return {
      admitted: false,
      decision: p.ruling.decision,
      hold: null,
      refusal: out.refusal,
      waited,
      retryAfterSec: out.refusal.kind === "rate" ? null : 1,
    };
  }

  /** Refused for what it was last waiting for. */
  private refuse(p: Pending, last: Blocked, waited: Admission["waited"]): Admission {
    this.giveBack(p);
    const d = p.ruling.decision;
    const retryAfterSec =
      last.wake === "slot"
        ? this.o.slotRetryAfterSec
        : Math.max(1, Math.ceil((last.atMs - this.o.clock.now()) / 1000));
    return {
      admitted: false,
      decision: d,
      hold: null,
      refusal:
        last.wake === "slot" ? { kind: "slot", scope: last.scope, limit: p.slotLimit } : { kind: "rate" },
      waited,
      retryAfterSec,
    };
  }

  /** A success whose client left during the attempt: its slots and units go back. */
  private undo(p: Pending, out: Outcome): void {
    if (out.ok && out.hold) out.hold.release().catch(() => undefined);
    this.giveBack(p);
  }

  /** Units of an allowed decision go back once (the request never reached the origin). */
  private giveBack(p: Pending): void {
    if (p.refunded || !p.ruling.decision.allowed) return;
    p.refunded = true;
    this.o.quota.refund(p.ruling);
  }

  /** The waiting room's figures and this isolate's slots. */
  snapshot(): QueueSnapshot {
    const room = this.o.room;
    const waits = room.stats.waits();
    return {
      depth: room.depth,
      maxDepth: room.maxDepth,
      tenants: room.tenantDepths(),
      avgWaitMs: waits.avgMs,
      maxWaitMs: waits.maxMs,
      oldestWaitMs: room.oldestWaitMs(),
      admitted: room.stats.admitted,
      expired: room.stats.expired,
      aborted: room.stats.aborted,
      rejected: room.stats.rejected,
      slots: this.o.slots.held(),
    };
  }

  health() {
    return queueHealth(this.snapshot());
  }
}

export interface CreateGateOptions {
  quota: Pick<QuotaService, "rule" | "refund">;
  store: Store;
  clock: Clock;
  timers: Timers;
  metrics: Metrics;
  storeTimeoutMs: number;
  /** The origin's name (its slots are shared by every deployment in front of it) and in-flight limit. */
  origin: { id: string; limit: number } | null;
  slotTtlMs: number;
  /** Requests waiting at once in one isolate, all tenants. */
  maxDepth: number;
  recheckMs: number;
  /** How requests waiting for a slot are served across tenants. */
  order?: QueueOrder | undefined;
  /** The store's breaker, shared with the limiter. */
  breaker?: SlotServiceOptions["breaker"];
}

/** The waiting room and the slot service of one isolate, wired: a release wakes the next waiting request. */
export function createGate(o: CreateGateOptions): Gate {
  const room = new WaitingRoom<Outcome>({
    clock: o.clock,
    timers: o.timers,
    metrics: o.metrics,
    maxDepth: o.maxDepth,
    recheckMs: o.recheckMs,
    order: o.order,
  });
  const slots = new SlotService({
    store: o.store,
    clock: o.clock,
    timers: o.timers,
    metrics: o.metrics,
    origin: o.origin,
    ttlMs: o.slotTtlMs,
    storeTimeoutMs: o.storeTimeoutMs,
    breaker: o.breaker,
  });
  slots.onFreed = (tenant) => room.slotFreed(tenant);
  return new Gate({
    quota: o.quota,
    slots,
    room,
    clock: o.clock,
    slotRetryAfterSec: Math.max(1, Math.ceil(o.recheckMs / 1000)),
  });
}
