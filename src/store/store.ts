// The Store interface: the state of record behind the limiter. Implemented by MemoryStore and UpstashStore and held
// to one contract suite (contract.case.ts).
import type { DenyEntry, DenyKind } from "../core/deny.ts";
import type { LimitSpec, UsageDelta } from "../core/quota.ts";
import type { TenantOverrides } from "../policy/policy-schema.ts";

export type { UsageDelta };

export interface AcquireItem {
  limit: LimitSpec;
  /** Units that must fit for the request to be allowed (0: only top up). Ignored by shadow limits. */
  min: number;
  /** Units to take when they are available (>= min): the lease. */
  want: number;
}

export interface ItemGrant {
  /** Units taken (0 when the acquisition was refused). */
  granted: number;
  /** Units still available in the store after this call. */
  available: number;
  /** Period the grant was counted in (needed to return unused units). */
  periodId: string;
  /** When the window resets (calendar/sliding) or the bucket is full again, epoch ms. */
  resetAtMs: number;
  /** Earliest instant `min` units could fit when they do not now, epoch ms (resetAtMs otherwise). */
  retryAtMs: number;
}

export interface AcquireResult {
  /** True when every enforced item's `min` fitted and every item was granted; false: nothing was taken. */
  ok: boolean;
  items: ItemGrant[];
}

export interface UsageReading {
  /** Units counted in the window as the store sees it (for a bucket: burst minus tokens left). */
  used: number;
  available: number;
  resetAtMs: number;
}

export interface TenantRecord {
  tier: string;
  overrides?: TenantOverrides;
  /** Bumped on every write; isolates compare it when their cached copy expires. */
  version: number;
  updatedAtMs: number;
}

export interface UsagePage {
  entries: Array<[tenant: string, units: number]>;
  /** "0" when the listing is complete. */
  cursor: string;
}

/** Fleet-wide counters, one hash per day. */
export type StatsDelta = Record<string, number>;

export interface FlushBatch {
  deltas: UsageDelta[];
  stats?: { dayId: string; counts: StatsDelta };
  nowMs: number;
}

/** A concurrency scope: one set of slots (requests in flight) with its limit. */
export interface SlotScope {
  kind: "tenant" | "origin";
  /** The tenant id, or the origin's name. */
  id: string;
  limit: number;
}

export interface SlotGrant {
  /** True when a slot was taken in every scope; false: none was taken. */
  ok: boolean;
  /** Per scope, in order: live slots held after the call (expired ones never count). */
  scopes: Array<{ inUse: number }>;
}

export interface Store {
  /** "memory" keeps state in this isolate only; "remote" is shared by every isolate. */
  readonly locality: "memory" | "remote";
  /** Atomically, all or nothing: take units for every item of one tenant's request. `caller` identifies the
   * isolate, so that grants can be split fairly among the isolates drawing on the same limit. */
  acquire(tenant: string, items: AcquireItem[], nowMs: number, caller?: string): Promise<AcquireResult>;
  /** Applies many tenants' deltas and the stats in one round trip; returns the counters after (same order). */
  flush(batch: FlushBatch): Promise<number[]>;
  /** Reads usage without changing it. */
  read(tenant: string, limits: LimitSpec[], nowMs: number): Promise<UsageReading[]>;
  /** Forgets a tenant's usage in the current periods of these limits. */
  reset(tenant: string, limits: LimitSpec[], nowMs: number): Promise<void>;
  getTenant(tenant: string): Promise<TenantRecord | null>;
  putTenant(
    tenant: string,
    record: Omit<TenantRecord, "version" | "updatedAtMs">,
    nowMs: number,
  ): Promise<TenantRecord>;
  /** Pages through one period's usage of one limit across all shards (HSCAN, never a whole-hash read). */
  scanUsage(limit: LimitSpec, periodId: string, cursor: string, count: number): Promise<UsagePage>;
  /** Tenants counted and approximate bytes held by one period of one limit. */
  usageSize(limit: LimitSpec, periodId: string): Promise<{ tenants: number; bytes: number }>;
  getStats(dayId: string): Promise<StatsDelta>;
  ping(): Promise<void>;
  /** Every deny-list entry, in one read (isolates cache it; the list is configuration and never expires). */
  getDenyList(): Promise<DenyEntry[]>;
  /** Adds an entry, or replaces the one of the same kind and value. */
  putDeny(entry: DenyEntry): Promise<void>;
  /** Removes an entry; false when there was none. */
  deleteDeny(kind: DenyKind, value: string): Promise<boolean>;
  /** Atomically, all or nothing: takes slot `slotId` in every scope, expiring `ttlMs` after `nowMs`. Slots whose
   * expiry has passed (their holder stopped renewing them) are dropped first. A slot id already held is not counted
   * twice (a resent call takes nothing more). */
  acquireSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<SlotGrant>;
  /** Gives slot `slotId` back in every scope (nothing when it is not held). */
  releaseSlots(scopes: SlotScope[], slotId: string): Promise<void>;
  /** Moves the expiry of slot `slotId` to `ttlMs` after `nowMs` where it is still held; returns in how many scopes. */
  renewSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<number>;
}

export type { DenyEntry, DenyKind };
