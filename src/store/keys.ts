// Every Redis key quotagate uses is built here.
import type { LimitSpec } from "../core/quota.ts";

/** Shards per usage period: 16 keeps each hash near 60 MB at 10M tenants. Changing it orphans current periods. */
export const USAGE_SHARDS = 16;

/** FNV-1a, 32 bit, over the UTF-16 code units: stable across isolates and runtimes, cheap, no allocation. */
export function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(tenant: string): number {
  return stableHash(tenant) % USAGE_SHARDS;
}

const shardTag = (shard: number) => `{${String(shard).padStart(2, "0")}}`;

/** Usage hash of one period of one limit, one shard: field = tenant id, value = units. */
export function usageKey(limit: LimitSpec, periodId: string, shard: number): string {
  return `qg:u:${limit.id}:${periodId}:${shardTag(shard)}`;
}

/** Sharer registry of one period of one limit (which isolates drew on it lately), one shard: field = tenant id. */
export function sharersKey(limit: LimitSpec, periodId: string, shard: number): string {
  return `qg:i:${limit.id}:${periodId}:${shardTag(shard)}`;
}

export function tenantKey(tenant: string): string {
  return `qg:t:${tenant}`;
}

export function statsKey(dayId: string): string {
  return `qg:s:${dayId}`;
}

/** The deny list: one hash, field = `<kind>:<value>` (tenant, key or ip), value = JSON of its reason and creation time.
 * Like tenant records it is configuration, so it has no expiry; every isolate reads it whole once per cache TTL. */
export function denyKey(): string {
  return "qg:deny";
}

export const denyField = (kind: string, value: string) => `${kind}:${value}`;
/** Slots in flight of one concurrency scope: a sorted set, member = slot id, score = its expiry (ms). */
export function slotKey(kind: "tenant" | "origin", id: string): string {
  return `qg:c:${kind === "tenant" ? "t" : "o"}:${id}`;
}
