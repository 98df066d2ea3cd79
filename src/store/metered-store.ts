// A Store that counts the Redis commands each call costs as Upstash bills them (every command a Lua script runs
// included), for the cost estimates of stats, metrics and the dashboard. The counts are estimates from what the
// scripts do per item; the benchmark measures the real figures on a redis-server.
import { SHARER_SLOTS } from "../algorithms/sharers.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AcquireItem, AcquireResult, FlushBatch, Store } from "./store.ts";

/** EVALSHA, then per limit: its read or optimistic take (two buckets for a sliding window), a give-back when a counter
 * took more than it was granted, a bucket's write, and the sharer registry's read and write where a fair split could
 * cut a lease (expiries are set once per field: left out). */
export function acquireCommands(items: AcquireItem[], result: AcquireResult, caller?: string): number {
  let n = 1;
  let taking = true;
  items.forEach((it, i) => {
    const g = result.items[i];
    const granted = g?.granted ?? 0;
    n += it.limit.window.kind === "sliding" ? 2 : 1;
    if (it.limit.window.kind === "bucket") n += granted > 0 ? 1 : 0;
    else if (taking && it.want > granted) n += 1;
    if (it.limit.mode === "enforce" && (g?.available ?? 0) + granted < it.min) taking = false;
    const before = (g?.available ?? 0) + granted;
    if (
      result.ok &&
      caller &&
      it.limit.mode === "enforce" &&
      it.want > it.min &&
      before < it.want * SHARER_SLOTS
    )
      n += 2;
  });
  return n;
}

/** The deltas script (a read and a write per delta) and the stats' HINCRBY per counter plus one EXPIRE. */
export function flushCommands(batch: FlushBatch): number {
  const stats = Object.values(batch.stats?.counts ?? {}).filter((v) => v !== 0).length;
  return (batch.deltas.length ? 1 + 2 * batch.deltas.length : 0) + (stats ? stats + 1 : 0);
}

/** The slot scripts, per scope: acquire counts the live slots (ZCOUNT), then takes one (ZADD NX) and renews the key's
 * expiry (PEXPIRE), or, in a full scope, tidies expired slots and checks for its own (ZREMRANGEBYSCORE, ZSCORE);
 * release is one ZREM; renew reads the slot, moves it and renews the key's expiry (ZSCORE, ZADD XX, PEXPIRE). */
export function slotCommands(op: "acquire" | "release" | "renew", scopes: number): number {
  if (scopes === 0) return 0;
  return 1 + (op === "release" ? 1 : 3) * scopes;
}

/** Commands of the calls whose count does not depend on their answer. */
const FIXED: Partial<Record<keyof Store, number>> = {
  getTenant: 1,
  putTenant: 4, // MULTI, HSET, HINCRBY, EXEC
  scanUsage: 1,
  usageSize: 33, // the size script: HLEN and MEMORY USAGE per shard
  getStats: 1,
  ping: 1,
  getDenyList: 1,
  putDeny: 1,
  deleteDeny: 1,
};

/** Wraps a store; `quotagate_store_commands_total{op}` grows by each successful call's commands. */
export function meteredStore(store: Store, metrics: Metrics): Store {
  const count = (op: string, n: number) => {
    if (n > 0) metrics.inc("quotagate_store_commands_total", { op }, n);
  };
  const fixed = <K extends keyof Store>(name: K, op: string) =>
    (async (...args: unknown[]) => {
      const out = await (store[name] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      count(op, FIXED[name] ?? 1);
      return out;
    }) as Store[K];
  return {
    locality: store.locality,
    async acquire(tenant, items, nowMs, caller) {
      const r = await store.acquire(tenant, items, nowMs, caller);
      count("acquire", acquireCommands(items, r, caller));
      return r;
    },
    async flush(batch) {
      const out = await store.flush(batch);
      count("flush", flushCommands(batch));
      return out;
    },
    async read(tenant, limits, nowMs) {
      const out = await store.read(tenant, limits, nowMs);
      count("read", 1 + limits.reduce((n, l) => n + (l.window.kind === "sliding" ? 2 : 1), 0));
      return out;
    },
    async reset(tenant, limits, nowMs) {
      await store.reset(tenant, limits, nowMs);
      count(
        "reset",
        limits.reduce((n, l) => n + (l.window.kind === "sliding" ? 2 : 1), 0),
      );
    },
    async acquireSlots(scopes, slotId, nowMs, ttlMs) {
      const out = await store.acquireSlots(scopes, slotId, nowMs, ttlMs);
      count("slots", slotCommands("acquire", scopes.length));
      return out;
    },
    async releaseSlots(scopes, slotId) {
      await store.releaseSlots(scopes, slotId);
      count("slots", slotCommands("release", scopes.length));
    },
    async renewSlots(scopes, slotId, nowMs, ttlMs) {
      const out = await store.renewSlots(scopes, slotId, nowMs, ttlMs);
      count("slots", slotCommands("renew", scopes.length));
      return out;
    },
    getTenant: fixed("getTenant", "get_tenant"),
    putTenant: fixed("putTenant", "put_tenant"),
    scanUsage: fixed("scanUsage", "scan_usage"),
    usageSize: fixed("usageSize", "usage_size"),
    getStats: fixed("getStats", "get_stats"),
    ping: fixed("ping", "ping"),
    getDenyList: fixed("getDenyList", "get_deny_list"),
    putDeny: fixed("putDeny", "put_deny"),
    deleteDeny: fixed("deleteDeny", "delete_deny"),
  };
}
