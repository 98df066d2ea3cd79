// The waiting room: requests that would be refused wait here for allowance (a window that rolls over) or for a
// concurrency slot, within their deadline and the depth bounds. It decides nothing itself: a woken request re-tries its
// own decision (the admission's attempt) and reports what came of it.
//
// Waiting for time: one FIFO lane per tenant; only its head holds a timer (at the instant its decision named), and a
// head that is admitted wakes the next at once. Waiting for a slot: a FairTenantQueue; one turn at a time, given when a
// slot is released in this isolate (at once) or, for slots freed by other isolates or by expiry, when a recheck finds
// room (every `recheckMs`, one probe per isolate). A waiter's own attempts and timers run in its own flow, so a
// request's I/O never depends on another request staying alive.
import type { Clock, Timers } from "../core/clock.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { FairTenantQueue, type QueueEntry, type QueueOrder } from "./fair-tenant-queue.ts";
import { WaitStats } from "./wait-stats.ts";

export type SlotScopeKind = "tenant" | "origin";

/** What a request is waiting for: an instant (its limits may fit then) or a free slot in a scope. */
export type Blocked =
  | { done: false; wake: "time"; atMs: number }
  | { done: false; wake: "slot"; scope: SlotScopeKind };

/** What an attempt came to: done (admitted, or a refusal that no wait changes), or what to wait for next. */
export type Step<T> = { done: true; value: T } | Blocked;

export type WaitEnd<T> =
  | { kind: "done"; value: T; waitedMs: number }
  | { kind: "expired" | "aborted"; last: Blocked; waitedMs: number }
  | { kind: "full"; bound: "tenant" | "global"; maxDepth: number };

export interface WaitRequest<T> {
  tenant: string;
  /** Turns per round in the slot queue. */
  weight: number;
  /** Requests of this tenant that may wait at once. */
  maxDepth: number;
  /** The request is refused once this instant passes (or at once when what it waits for comes later). */
  deadlineMs: number;
  /** Aborted when the client goes away: the request leaves at once. */
  signal?: AbortSignal | undefined;
  /** What its first attempt was refused for. */
  first: Blocked;
  /** Tries again; the room calls it only when the request's turn has come. */
  attempt(): Promise<Step<T>>;
  /** Undoes a success nobody will use (the client left while the attempt ran). */
  discard(value: T): void;
}

export interface WaitingRoomOptions {
  clock: Clock;
  timers: Timers;
  metrics: Metrics;
  /** Requests waiting at once in this isolate, all tenants. */
  maxDepth: number;
  /** How often waiting requests look for slots freed elsewhere. */
  recheckMs: number;
  /** How slot waiters are served across tenants (default round-robin). */
  order?: QueueOrder | undefined;
}

type Poke = "attempt" | "end";

interface Waiter<T> {
  req: WaitRequest<T>;
  sinceMs: number;
  last: Blocked;
  phase: "time" | "slot";
  busy: boolean;
  entry: QueueEntry<Waiter<T>> | undefined;
  end: WaitEnd<T> | undefined;
  /** The deadline passed or the client left during an attempt: the wait ends with the attempt. */
  leaving: "expired" | "aborted" | undefined;
  /** Its place was given back already (a client that left frees its place at once). */
  freed: boolean;
  wake: ((p: Poke) => void) | undefined;
  pending: Poke | undefined;
  phaseTimer: (() => void) | undefined;
  cleanup: Array<() => void>;
}

export class WaitingRoom<T> {
  private readonly o: WaitingRoomOptions;
  private readonly lanes = new Map<string, Array<Waiter<T>>>();
  private readonly slots: FairTenantQueue<Waiter<T>>;
  /** Tenants whose slot waiters were refused by their own tenant's limit: origin capacity is not theirs to use. */
  private readonly blocked = new Set<string>();
  private readonly depths = new Map<string, number>();
  /** Waiters whose place is held (bounded by maxDepth). */
  private readonly live = new Set<Waiter<T>>();
  private total = 0;
  /** Slots released in this isolate and not yet offered. */
  private credits = 0;
  /** A recheck is looking for room: turns go on until one is refused for the origin. */
  private probing = false;
  private nextProbeAtMs = 0;
  private turn: Waiter<T> | null = null;
  private turnUsedCredit = false;
  readonly stats: WaitStats;

  constructor(o: WaitingRoomOptions) {
    this.o = o;
    this.slots = new FairTenantQueue<Waiter<T>>(o.order);
    this.stats = new WaitStats();
  }

  get depth(): number {
    return this.total;
  }

  get maxDepth(): number {
    return this.o.maxDepth;
  }

  depthOf(tenant: string): number {
    return this.depths.get(tenant) ?? 0;
  }

  /** Waiting requests per tenant. */
  tenantDepths(): Array<[tenant: string, depth: number]> {
    return [...this.depths];
  }

  /** Age of the longest-waiting request (0 when none waits). */
  oldestWaitMs(): number {
    const now = this.o.clock.now();
    let oldest = now;
    for (const w of this.live) oldest = Math.min(oldest, w.sinceMs);
    return now - oldest;
  }

  /**
   * When waiting requests have first claim on a slot a new request of `tenant` would take (its own tenant has slot
   * waiters, or, the origin being capped, another tenant waits for origin capacity): the scope it would wait for.
   * Null when it may try at once.
   */
  slotsClaimed(tenant: string, originCapped: boolean): SlotScopeKind | null {
    // Behind its own tenant's waiters, for what they wait for (its own limit, or the origin).
    if (this.slots.depth(tenant) > 0) return this.blocked.has(tenant) || !originCapped ? "tenant" : "origin";
    if (originCapped && this.slots.peek((t) => !this.blocked.has(t))) return "origin";
    return null;
  }

  /** A slot was released in this isolate (of `tenant` when it held one in its tenant's scope): the next turn. */
  slotFreed(tenant: string | undefined): void {
    if (tenant !== undefined) this.blocked.delete(tenant);
    this.credits = Math.min(this.credits + 1, this.slots.size);
    this.pump();
  }

  /** Waits until the request is admitted, refused for good, past its deadline, or its client leaves. */
  wait(req: WaitRequest<T>): Promise<WaitEnd<T>> {
    if (req.signal?.aborted) return Promise.resolve({ kind: "aborted", last: req.first, waitedMs: 0 });
    // The tenant's own bound is named first: it is the one the tenant can do something about.
    const full =
      this.depthOf(req.tenant) >= req.maxDepth ? "tenant" : this.total >= this.o.maxDepth ? "global" : null;
    if (full) {
      this.o.metrics.inc("quotagate_queue_requests_total", { outcome: "full" });
      this.stats.rejected++;
      return Promise.resolve({
        kind: "full",
        bound: full,
        maxDepth: full === "global" ? this.o.maxDepth : req.maxDepth,
      });
    }
    const now = this.o.clock.now();
    const w: Waiter<T> = {
      req,
      sinceMs: now,
      last: req.first,
      phase: "time",
      busy: false,
      entry: undefined,
      end: undefined,
      leaving: undefined,
      freed: false,
      wake: undefined,
      pending: undefined,
      phaseTimer: undefined,
      cleanup: [],
    };
    this.total++;
    this.live.add(w);
    this.depths.set(req.tenant, this.depthOf(req.tenant) + 1);
    this.o.metrics.set("quotagate_queue_depth", this.total);
    // One ms past the deadline: a request whose allowance comes exactly at its deadline gets it.
    w.cleanup.push(this.o.timers.after(req.deadlineMs - now + 1, () => this.leave(w, "expired")));
    if (req.signal) {
      const signal = req.signal;
      const onAbort = () => this.leave(w, "aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      w.cleanup.push(() => signal.removeEventListener("abort", onAbort));
    }
    this.enter(w, req.first);
    return this.run(w);
  }

  /** The waiter's own flow: it sleeps until poked, then runs its own attempt. */
  private async run(w: Waiter<T>): Promise<WaitEnd<T>> {
    for (;;) {
      if (w.end) return w.end;
      const poke = await this.nextPoke(w);
      if (poke === "end" || w.end) return w.end!;
      w.busy = true;
      let step: Step<T>;
      try {
        step = await w.req.attempt();
      } catch (err) {
        w.busy = false;
        this.afterFailure(w);
        throw err;
      }
      w.busy = false;
      if (w.phase === "slot") this.afterSlotTurn(w, step);
      else this.afterTimeTurn(w, step);
    }
  }

  private nextPoke(w: Waiter<T>): Promise<Poke> {
    if (w.pending) {
      const p = w.pending;
      w.pending = undefined;
      return Promise.resolve(p);
    }
    return new Promise((resolve) => {
      w.wake = resolve;
    });
  }

  private poke(w: Waiter<T>, p: Poke): void {
    const wake = w.wake;
    if (wake) {
      w.wake = undefined;
      wake(p);
    } else if (w.pending !== "end") w.pending = p;
  }

  /** Files a waiter for what it waits for (never while its attempt runs). */
  private enter(w: Waiter<T>, step: Blocked): void {
    w.last = step;
    if (step.wake === "time") {
      if (step.atMs > w.req.deadlineMs) {
        this.finish(w, { kind: "expired", last: step, waitedMs: this.o.clock.now() - w.sinceMs });
        return;
      }
      w.phase = "time";
      const lane = this.lanes.get(w.req.tenant) ?? [];
      this.lanes.set(w.req.tenant, lane);
      lane.push(w);
      if (lane[0] === w) this.armTime(w, step.atMs);
      return;
    }
    w.phase = "slot";
    w.entry = this.slots.push(w.req.tenant, w, w.req.weight);
    if (step.scope === "tenant") this.blocked.add(w.req.tenant);
    this.armRecheck(w);
    this.pump();
  }

  private armTime(w: Waiter<T>, atMs: number): void {
    w.phaseTimer?.();
    w.phaseTimer = this.o.timers.after(Math.max(1, atMs - this.o.clock.now()), () => {
      w.phaseTimer = undefined;
      this.poke(w, "attempt");
    });
  }

  /** Each slot waiter keeps its own recheck timer (its own flow); one probe per interval is made of them. */
  private armRecheck(w: Waiter<T>): void {
    w.phaseTimer?.();
    w.phaseTimer = this.o.timers.after(this.o.recheckMs, () => {
      w.phaseTimer = undefined;
      if (w.end || w.phase !== "slot") return;
      const now = this.o.clock.now();
      if (now >= this.nextProbeAtMs) {
        this.nextProbeAtMs = now + this.o.recheckMs;
        this.probing = true;
        this.blocked.clear();
        this.pump();
      }
      this.armRecheck(w);
    });
  }

  /** Gives the next slot turn, round-robin over the tenants that may use what is free. */
  private pump(): void {
    if (this.turn) return;
    if (this.slots.size === 0) {
      this.credits = 0;
      this.probing = false;
      return;
    }
    if (this.credits === 0 && !this.probing) return;
    const entry = this.slots.peek((t) => !this.blocked.has(t));
    if (!entry) {
      this.credits = 0;
      this.probing = false;
      return;
    }
    this.turnUsedCredit = this.credits > 0;
    if (this.turnUsedCredit) this.credits--;
    this.turn = entry.item;
    this.poke(entry.item, "attempt");
  }

  private afterSlotTurn(w: Waiter<T>, step: Step<T>): void {
    if (this.turn === w) this.turn = null;
    if (step.done) {
      if (w.entry && this.slots.peek((t) => t === w.req.tenant) === w.entry) this.slots.take(w.entry);
      else if (w.entry) this.slots.remove(w.entry);
      w.entry = undefined;
      this.conclude(w, step.value);
    } else if (step.wake === "slot") {
      w.last = step;
      if (step.scope === "tenant") {
        this.blocked.add(w.req.tenant);
        if (this.turnUsedCredit) this.credits++;
      } else {
        this.credits = 0;
        this.probing = false;
      }
      if (w.leaving) {
        this.unfile(w);
        this.finishLeaving(w);
      }
    } else {
      this.unfile(w);
      if (w.leaving) this.finishLeaving(w);
      else this.enter(w, step);
    }
    this.pump();
  }

  private afterTimeTurn(w: Waiter<T>, step: Step<T>): void {
    const tenant = w.req.tenant;
    if (step.done) {
      this.unfile(w);
      this.conclude(w, step.value);
    } else if (step.wake === "time" && !w.leaving && step.atMs <= w.req.deadlineMs) {
      w.last = step;
      this.armTime(w, step.atMs);
      return;
    } else {
      this.unfile(w);
      if (w.leaving) this.finishLeaving(w);
      else this.enter(w, step);
    }
    this.wakeHead(tenant);
  }

  /** An attempt threw: the waiter leaves (its caller sees the error) and the turn passes on. */
  private afterFailure(w: Waiter<T>): void {
    const wasSlot = w.phase === "slot";
    if (this.turn === w) this.turn = null;
    this.unfile(w);
    this.finish(w, { kind: "expired", last: w.last, waitedMs: this.o.clock.now() - w.sinceMs });
    if (wasSlot) this.pump();
    else this.wakeHead(w.req.tenant);
  }

  /** The head of a tenant's time lane left: the next one tries at once (allowance may be there for it too). */
  private wakeHead(tenant: string): void {
    const head = this.lanes.get(tenant)?.[0];
    if (head && !head.busy) this.poke(head, "attempt");
  }

  /** Takes a waiter out of its lane or queue (its place in the depth counts is given back by finish). */
  private unfile(w: Waiter<T>): void {
    w.phaseTimer?.();
    w.phaseTimer = undefined;
    if (w.entry) this.slots.remove(w.entry);
    w.entry = undefined;
    const lane = this.lanes.get(w.req.tenant);
    const i = lane ? lane.indexOf(w) : -1;
    if (lane && i >= 0) {
      lane.splice(i, 1);
      if (lane.length === 0) this.lanes.delete(w.req.tenant);
    }
  }

  /** The deadline passed or the client left. */
  private leave(w: Waiter<T>, why: "expired" | "aborted"): void {
    if (w.end) return;
    if (w.busy) {
      // The attempt under way decides; a client that left frees its place now.
      w.leaving = why === "aborted" ? "aborted" : (w.leaving ?? why);
      if (why === "aborted") this.freePlace(w);
      return;
    }
    const head = w.phase === "time" && this.lanes.get(w.req.tenant)?.[0] === w;
    this.unfile(w);
    this.finish(w, { kind: why, last: w.last, waitedMs: this.o.clock.now() - w.sinceMs });
    if (head) this.wakeHead(w.req.tenant);
    if (this.turn === w) {
      // Its turn was given but had not begun: it passes on, with the slot it was offered.
      this.turn = null;
      if (this.turnUsedCredit) this.credits++;
      this.pump();
    }
  }

  private finishLeaving(w: Waiter<T>): void {
    this.finish(w, {
      kind: w.leaving ?? "expired",
      last: w.last,
      waitedMs: this.o.clock.now() - w.sinceMs,
    });
  }

  /** A success: admitted, unless its client left meanwhile (then it is undone). */
  private conclude(w: Waiter<T>, value: T): void {
    if (w.leaving === "aborted") {
      w.req.discard(value);
      this.finishLeaving(w);
      return;
    }
    this.finish(w, { kind: "done", value, waitedMs: this.o.clock.now() - w.sinceMs });
  }

  private freePlace(w: Waiter<T>): void {
    if (w.freed) return;
    w.freed = true;
    this.live.delete(w);
    this.total--;
    const d = this.depthOf(w.req.tenant) - 1;
    if (d > 0) this.depths.set(w.req.tenant, d);
    else this.depths.delete(w.req.tenant);
    this.o.metrics.set("quotagate_queue_depth", this.total);
  }

  private finish(w: Waiter<T>, end: WaitEnd<T>): void {
    if (w.end) return;
    w.end = end;
    this.freePlace(w);
    w.phaseTimer?.();
    w.phaseTimer = undefined;
    for (const c of w.cleanup) c();
    w.cleanup = [];
    if (end.kind !== "full") {
      this.stats.record(end.kind, end.waitedMs);
      this.o.metrics.inc("quotagate_queue_requests_total", {
        outcome: end.kind === "done" ? "admitted" : end.kind,
      });
      this.o.metrics.observe("quotagate_queue_wait_seconds", end.waitedMs / 1000, {
        outcome: end.kind === "done" ? "admitted" : end.kind,
      });
    }
    this.poke(w, "end");
  }
}
