// MemoryStore: the embedded Store, state in this isolate's memory with the same hash layout as Redis. Exact for one
// isolate (the default for `npm run dev`); every isolate has its own, so it is not a fleet-wide store.

import { applyDelta, planAcquire, type SlotState } from "../../algorithms/acquire.ts";
import { grantPeriod, previousSlidingPeriodId, retentionEndMs } from "../../algorithms/limit-window.ts";
import { SHARER_SLOTS, SHARER_WINDOW_MS, updateSharers } from "../../algorithms/sharers.ts";
import { dropExpired, renewSlots, type SlotSet, takeSlots } from "../../algorithms/slot-set.ts";
import type { BucketState } from "../../algorithms/token-bucket.ts";
import type { LimitSpec } from "../../core/quota.ts";
import { denyField, shardOf, slotKey, USAGE_SHARDS, usageKey } from "../keys.ts";
import { readByAcquire } from "../read-by-acquire.ts";
import type {
  AcquireItem,
  AcquireResult,
  DenyEntry,
  DenyKind,
  FlushBatch,
  SlotGrant,
  SlotScope,
  StatsDelta,
  Store,
  TenantRecord,
  UsagePage,
  UsageReading,
} from "../store.ts";

/** Kept after a period ends so late flushes land (mirrors the Redis EXPIRE grace). */
const GRACE_MS = 3_600_000;
/** Expired hashes are swept every so many writes, so memory stays bounded by live periods. */
const SWEEP_EVERY = 1024;

interface Hash {
  fields: Map<string, number | BucketState>;
  expireAtMs: number;
}

export class MemoryStore implements Store {
  readonly locality = "memory" as const;
  private readonly hashes = new Map<string, Hash>();
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly stats = new Map<string, Map<string, number>>();
  private readonly deny = new Map<string, DenyEntry>();
  /** Sharer registries by (tenant, limit, period); pruned with the hashes' sweep. */
  private readonly sharers = new Map<string, { raw: string; expireAtMs: number }>();
  /** Concurrency slots by scope key; a set is dropped once empty. */
  private readonly slots = new Map<string, SlotSet>();
  private writes = 0;

  async acquire(
    tenant: string,
    items: AcquireItem[],
    nowMs: number,
    caller?: string,
  ): Promise<AcquireResult> {
    const slots = items.map((it) => this.loadSlot(tenant, it.limit, nowMs));
    const sharersOf = (i: number) => {
      const limit = items[i]!.limit;
      const period = grantPeriod(limit, nowMs);
      const key = `${limit.id}\u0000${period.id}\u0000${tenant}`;
      const s = updateSharers(
        this.sharers.get(key)?.raw ?? null,
        caller!,
        nowMs,
        SHARER_WINDOW_MS,
        SHARER_SLOTS,
      );
      if (s.write)
        this.sharers.set(key, { raw: s.next, expireAtMs: retentionEndMs(limit, period, GRACE_MS) });
      return s.count;
    };
    const plan = planAcquire(items, slots, nowMs, caller ? sharersOf : undefined);
    plan.items.forEach((p, i) => {
      // Like the Lua script, only a grant writes: a read (nothing to take) leaves no trace, and a counter taken and
      // given back whole leaves no field at 0.
      if (plan.ok && p.granted > 0) this.storeSlot(tenant, items[i]!.limit, p.periodId, p.next, nowMs);
      else if (p.dropsZero) this.dropZero(tenant, items[i]!.limit, p.periodId);
    });
    return {
      ok: plan.ok,
      items: plan.items.map(({ granted, available, periodId, resetAtMs, retryAtMs }) => ({
        granted,
        available,
        periodId,
        resetAtMs,
        retryAtMs,
      })),
    };
  }

  async flush(batch: FlushBatch): Promise<number[]> {
    const out = batch.deltas.map((d) => {
      // Like the Lua script: a return (or a zero delta) to a counter that is gone (its period expired, or an admin
      // reset) has nothing to give back, and one to a missing bucket (full) changes nothing: neither writes.
      if (d.units <= 0 && !this.hasField(d.tenant, d.limit, d.periodId))
        return d.limit.window.kind === "bucket" ? d.limit.window.burst : 0;
      const slot = this.loadPeriodSlot(d.tenant, d.limit, d.periodId);
      // Like the script, a return to a counter at 0 leaves no field (the script learns "was 0 or gone" from its
      // HINCRBY's answer and removes what that created).
      if (d.units < 0 && slot.kind === "counter" && slot.cur === 0) {
        this.hashes.get(usageKey(d.limit, d.periodId, shardOf(d.tenant)))?.fields.delete(d.tenant);
        return 0;
      }
      const next = applyDelta(d.limit, slot, d.units, batch.nowMs);
      this.storeSlot(d.tenant, d.limit, d.periodId, next, batch.nowMs);
      return next.kind === "counter" ? next.cur : Math.floor((next.state?.milli ?? 0) / 1000);
    });
    if (batch.stats) {
      const day = this.stats.get(batch.stats.dayId) ?? new Map<string, number>();
      for (const [k, v] of Object.entries(batch.stats.counts)) day.set(k, (day.get(k) ?? 0) + v);
      this.stats.set(batch.stats.dayId, day);
    }
    return out;
  }

  read(tenant: string, limits: LimitSpec[], nowMs: number): Promise<UsageReading[]> {
    return readByAcquire(this, tenant, limits, nowMs);
  }

  async reset(tenant: string, limits: LimitSpec[], nowMs: number): Promise<void> {
    for (const limit of limits) {
      const ids = [grantPeriod(limit, nowMs).id];
      if (limit.window.kind === "sliding") ids.push(previousSlidingPeriodId(limit.window.sizeMs, nowMs));
      for (const id of ids) this.hashes.get(usageKey(limit, id, shardOf(tenant)))?.fields.delete(tenant);
    }
  }

  async getTenant(tenant: string): Promise<TenantRecord | null> {
    return this.tenants.get(tenant) ?? null;
  }

  async putTenant(tenant: string, record: Omit<TenantRecord, "version" | "updatedAtMs">, nowMs: number) {
    const version = (this.tenants.get(tenant)?.version ?? 0) + 1;
    const next: TenantRecord = { ...record, version, updatedAtMs: nowMs };
    this.tenants.set(tenant, next);
    return next;
  }

  async scanUsage(limit: LimitSpec, periodId: string, cursor: string, count: number): Promise<UsagePage> {
    // Cursor: "<shard>:<offset>" over the shards in order, like the Redis store's per-shard HSCAN cursor.
    const [s, o] = cursor === "0" ? [0, 0] : cursor.split(":").map(Number);
    let shard = s ?? 0;
    let offset = o ?? 0;
    const entries: Array<[string, number]> = [];
    while (shard < USAGE_SHARDS && entries.length < count) {
      const fields = [...(this.hashes.get(usageKey(limit, periodId, shard))?.fields ?? [])];
      const slice = fields.slice(offset, offset + (count - entries.length));
      for (const [t, v] of slice) entries.push([t, typeof v === "number" ? v : 0]);
      offset += slice.length;
      if (offset >= fields.length) {
        shard++;
        offset = 0;
      }
    }
    return { entries, cursor: shard >= USAGE_SHARDS ? "0" : `${shard}:${offset}` };
  }

  async usageSize(limit: LimitSpec, periodId: string) {
    let tenants = 0;
    let bytes = 0;
    for (let shard = 0; shard < USAGE_SHARDS; shard++) {
      for (const [t] of this.hashes.get(usageKey(limit, periodId, shard))?.fields ?? []) {
        tenants++;
        bytes += t.length + 16;
      }
    }
    return { tenants, bytes };
  }

  async getStats(dayId: string): Promise<StatsDelta> {
    return Object.fromEntries(this.stats.get(dayId) ?? []);
  }

  async ping(): Promise<void> {}

  async getDenyList(): Promise<DenyEntry[]> {
    return [...this.deny.values()].map((e) => ({ ...e }));
  }

  async putDeny(entry: DenyEntry): Promise<void> {
    this.deny.set(denyField(entry.kind, entry.value), { ...entry });
  }

  async deleteDeny(kind: DenyKind, value: string): Promise<boolean> {
    return this.deny.delete(denyField(kind, value));
  }

  async acquireSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<SlotGrant> {
    const sets = scopes.map((s) => this.slotSet(s));
    const ok = takeSlots(
      sets,
      scopes.map((s) => s.limit),
      slotId,
      nowMs,
      ttlMs,
    );
    const out = sets.map((set) => ({ inUse: set.size }));
    scopes.forEach((s, i) => {
      if (sets[i]!.size === 0) this.slots.delete(slotKey(s.kind, s.id));
    });
    return { ok, scopes: out };
  }

  async releaseSlots(scopes: SlotScope[], slotId: string): Promise<void> {
    for (const s of scopes) {
      const key = slotKey(s.kind, s.id);
      const set = this.slots.get(key);
      if (set?.delete(slotId) && set.size === 0) this.slots.delete(key);
    }
  }

  async renewSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<number> {
    return renewSlots(
      scopes.map((s) => this.slots.get(slotKey(s.kind, s.id)) ?? new Map()),
      slotId,
      nowMs,
      ttlMs,
    );
  }

  private slotSet(scope: SlotScope): SlotSet {
    const key = slotKey(scope.kind, scope.id);
    let set = this.slots.get(key);
    if (!set) {
      set = new Map();
      this.slots.set(key, set);
    }
    return set;
  }

  private loadSlot(tenant: string, limit: LimitSpec, nowMs: number): SlotState {
    const w = limit.window;
    if (w.kind !== "sliding") return this.loadPeriodSlot(tenant, limit, grantPeriod(limit, nowMs).id);
    const cur = this.loadPeriodSlot(tenant, limit, grantPeriod(limit, nowMs).id);
    const prev = this.loadPeriodSlot(tenant, limit, previousSlidingPeriodId(w.sizeMs, nowMs));
    return {
      kind: "counter",
      prev: prev.kind === "counter" ? prev.cur : 0,
      cur: cur.kind === "counter" ? cur.cur : 0,
    };
  }

  private dropZero(tenant: string, limit: LimitSpec, periodId: string): void {
    const hash = this.hashes.get(usageKey(limit, periodId, shardOf(tenant)));
    if (hash?.fields.get(tenant) === 0) hash.fields.delete(tenant);
  }

  private hasField(tenant: string, limit: LimitSpec, periodId: string): boolean {
    return this.hashes.get(usageKey(limit, periodId, shardOf(tenant)))?.fields.has(tenant) ?? false;
  }

  private loadPeriodSlot(tenant: string, limit: LimitSpec, periodId: string): SlotState {
    const v = this.hashes.get(usageKey(limit, periodId, shardOf(tenant)))?.fields.get(tenant);
    if (limit.window.kind === "bucket") return { kind: "bucket", state: typeof v === "object" ? v : null };
    return { kind: "counter", prev: 0, cur: typeof v === "number" ? v : 0 };
  }

  private storeSlot(
    tenant: string,
    limit: LimitSpec,
    periodId: string,
    slot: SlotState,
    nowMs: number,
  ): void {
    const key = usageKey(limit, periodId, shardOf(tenant));
    const expireAtMs = retentionEndMs(limit, grantPeriod(limit, nowMs), GRACE_MS);
    let hash = this.hashes.get(key);
    if (!hash) {
      hash = { fields: new Map(), expireAtMs };
      this.hashes.set(key, hash);
    } else if (hash.expireAtMs < expireAtMs) {
      hash.expireAtMs = expireAtMs; // a bucket's single period lives on while it is written
    }
    hash.fields.set(tenant, slot.kind === "counter" ? slot.cur : slot.state!);
    if (++this.writes % SWEEP_EVERY === 0) this.sweep(nowMs);
  }

  private sweep(nowMs: number): void {
    for (const [key, hash] of this.hashes) if (hash.expireAtMs <= nowMs) this.hashes.delete(key);
    for (const [key, reg] of this.sharers) if (reg.expireAtMs <= nowMs) this.sharers.delete(key);
    for (const [key, set] of this.slots) {
      dropExpired(set, nowMs);
      if (set.size === 0) this.slots.delete(key);
    }
  }
}

export function createMemoryStore(): MemoryStore {
  return new MemoryStore();
}
