// UpstashStore: the Store of record on Upstash Redis over HTTP (@upstash/redis). Multi-key logic runs in Lua by
// EVALSHA (EVAL on NOSCRIPT); usage lives in per-period hashes sharded by tenant.
import { Redis } from "@upstash/redis/cloudflare";
import { grantPeriod, previousSlidingPeriodId, retentionEndMs } from "../../algorithms/limit-window.ts";
import { SHARER_SLOTS, SHARER_WINDOW_MS } from "../../algorithms/sharers.ts";
import type { LimitSpec } from "../../core/quota.ts";
import { overridesSchema, type TenantOverrides } from "../../policy/policy-schema.ts";
import { parseDenyHash } from "../deny-hash.ts";
import {
  denyField,
  denyKey,
  shardOf,
  sharersKey,
  slotKey,
  statsKey,
  tenantKey,
  USAGE_SHARDS,
  usageKey,
} from "../keys.ts";
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
import { type LuaScript, SCRIPTS } from "./scripts.ts";

export interface UpstashStoreOptions {
  url: string;
  token: string;
  /** Per-call timeout (each HTTP round trip gets its own AbortSignal). */
  timeoutMs: number;
  /** Retries of an acquire or read after a network error (the client's default retries for ~4 s). */
  retries?: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** How long a period's hash outlives it: long windows stay listable for a week, short ones for minutes. */
function graceMs(limit: LimitSpec): number {
  const w = limit.window;
  return w.kind === "fixed" && (w.unit === "hour" || w.unit === "day" || w.unit === "month")
    ? 7 * DAY
    : 10 * MINUTE;
}

type Arg = string | number;

/** HGETALL answers a flat [field, value, ...] list (read through exec: the typed hgetall garbles it when
 * automatic deserialization is off). */
function toRecord(raw: unknown): Record<string, string> {
  if (Array.isArray(raw)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = String(raw[i + 1]);
    return out;
  }
  return raw && typeof raw === "object"
    ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]))
    : {};
}

/** Overrides read back from Redis are validated like any input: a record that does not parse (written by hand, or
 * by another version) is logged and read as having none, never a surprise at decision time. */
function parseOverrides(tenant: string, raw: string | undefined): TenantOverrides | undefined {
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = overridesSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  console.error(`quotagate: tenant "${tenant}" has stored overrides that do not validate; they are ignored`);
  return undefined;
}

export class UpstashStore implements Store {
  readonly locality = "remote" as const;
  private readonly redis: Redis;
  /** Flushes are not idempotent (a resent negative delta would undercount), so they are never retried. */
  private readonly once: Redis;

  constructor(opts: UpstashStoreOptions) {
    const base = {
      url: opts.url,
      token: opts.token,
      signal: () => AbortSignal.timeout(opts.timeoutMs),
      enableTelemetry: false,
      automaticDeserialization: false,
      readYourWrites: false,
    } as const;
    // A resent acquire can only strand units (never over-admit), so it may be retried once.
    this.redis = new Redis({ ...base, retry: { retries: opts.retries ?? 1, backoff: () => 25 } });
    this.once = new Redis({ ...base, retry: { retries: 0 } });
  }

  private async run<T>(client: Redis, s: LuaScript, keys: string[], args: Arg[]): Promise<T> {
    try {
      return (await client.evalsha(s.sha, keys, args)) as T;
    } catch (err) {
      if (!/NOSCRIPT/i.test((err as Error).message)) throw err;
      return (await client.eval(s.source, keys, args)) as T;
    }
  }

  async acquire(
    tenant: string,
    items: AcquireItem[],
    nowMs: number,
    caller?: string,
  ): Promise<AcquireResult> {
    const shard = shardOf(tenant);
    const keys: string[] = [];
    const args: Arg[] = [tenant, nowMs, items.length, caller ?? "", SHARER_WINDOW_MS, SHARER_SLOTS];
    const periods = items.map((it) => grantPeriod(it.limit, nowMs));
    items.forEach((it, i) => {
      const l = it.limit;
      const w = l.window;
      const period = periods[i]!;
      const exp = Math.max(1_000, retentionEndMs(l, period, graceMs(l)) - nowMs);
      const mode = l.mode === "shadow" ? "s" : "e";
      if (w.kind === "fixed") {
        keys.push(usageKey(l, period.id, shard));
        args.push("f", mode, l.limit, it.min, it.want, period.endMs, 0, 0, exp);
      } else if (w.kind === "sliding") {
        keys.push(
          usageKey(l, previousSlidingPeriodId(w.sizeMs, nowMs), shard),
          usageKey(l, period.id, shard),
        );
        args.push("s", mode, l.limit, it.min, it.want, w.sizeMs, 0, 0, exp);
      } else {
        keys.push(usageKey(l, period.id, shard));
        args.push("b", mode, l.limit, it.min, it.want, w.rate, w.periodMs, w.burst, exp);
      }
      keys.push(sharersKey(l, period.id, shard));
    });
    const out = await this.run<number[]>(this.redis, SCRIPTS.acquire, keys, args);
    return {
      ok: out[0] === 1,
      items: items.map((_, i) => {
        const retry = Number(out[4 + i * 4]);
        return {
          granted: Number(out[1 + i * 4]),
          available: Number(out[2 + i * 4]),
          resetAtMs: Number(out[3 + i * 4]),
          retryAtMs: retry < 0 ? Number.POSITIVE_INFINITY : retry,
          periodId: periods[i]!.id,
        };
      }),
    };
  }

  async flush(batch: FlushBatch): Promise<number[]> {
    const keys: string[] = [];
    const args: Arg[] = [batch.nowMs];
    for (const d of batch.deltas) {
      const w = d.limit.window;
      keys.push(usageKey(d.limit, d.periodId, shardOf(d.tenant)));
      const exp = Math.max(
        1_000,
        retentionEndMs(d.limit, grantPeriod(d.limit, batch.nowMs), graceMs(d.limit)) - batch.nowMs,
      );
      if (w.kind === "bucket") args.push(d.tenant, d.units, "b", w.rate, w.periodMs, w.burst, exp);
      else args.push(d.tenant, d.units, "c", 0, 0, 0, exp);
    }
    const stats = Object.entries(batch.stats?.counts ?? {}).filter(([, v]) => v !== 0);
    if (keys.length === 0 && stats.length === 0) return [];
    // One round trip: the deltas script and the fleet stats' HINCRBYs in one pipeline.
    const p = this.once.pipeline();
    if (keys.length) p.evalsha(SCRIPTS.adjust.sha, keys, args);
    if (batch.stats && stats.length) {
      const key = statsKey(batch.stats.dayId);
      for (const [field, v] of stats) p.hincrby(key, field, v);
      p.expire(key, 8 * 86_400);
    }
    const res = (await p.exec({ keepErrors: true })) as Array<{ result?: unknown; error?: string }>;
    if (!keys.length) return [];
    const first = res[0]!;
    if (first.error) {
      if (!/NOSCRIPT/i.test(first.error)) throw new Error(first.error);
      return ((await this.once.eval(SCRIPTS.adjust.source, keys, args)) as number[]).map(Number);
    }
    return (first.result as number[]).map(Number);
  }

  read(tenant: string, limits: LimitSpec[], nowMs: number): Promise<UsageReading[]> {
    return readByAcquire(this, tenant, limits, nowMs);
  }

  async reset(tenant: string, limits: LimitSpec[], nowMs: number): Promise<void> {
    const shard = shardOf(tenant);
    const p = this.redis.pipeline();
    for (const l of limits) {
      p.hdel(usageKey(l, grantPeriod(l, nowMs).id, shard), tenant);
      if (l.window.kind === "sliding")
        p.hdel(usageKey(l, previousSlidingPeriodId(l.window.sizeMs, nowMs), shard), tenant);
    }
    if (limits.length) await p.exec();
  }

  async getTenant(tenant: string): Promise<TenantRecord | null> {
    const h = toRecord(await this.redis.exec(["HGETALL", tenantKey(tenant)]));
    if (!h.tier) return null;
    const overrides = parseOverrides(tenant, h.overrides);
    return {
      tier: h.tier,
      ...(overrides ? { overrides } : {}),
      version: Number(h.version ?? 0),
      updatedAtMs: Number(h.updated ?? 0),
    };
  }

  async putTenant(tenant: string, record: Omit<TenantRecord, "version" | "updatedAtMs">, nowMs: number) {
    const key = tenantKey(tenant);
    const tx = this.once.multi();
    tx.hset(key, {
      tier: record.tier,
      overrides: record.overrides ? JSON.stringify(record.overrides) : "",
      updated: nowMs,
    });
    tx.hincrby(key, "version", 1);
    const [, version] = (await tx.exec()) as [unknown, number];
    return { ...record, version: Number(version), updatedAtMs: nowMs };
  }

  async scanUsage(limit: LimitSpec, periodId: string, cursor: string, count: number): Promise<UsagePage> {
    // Cursor "<shard>:<hscan cursor>": HSCAN one shard after another, never a whole-hash read.
    const [s, c] = cursor === "0" ? ["0", "0"] : cursor.split(":");
    let shard = Number(s);
    let sub = c ?? "0";
    const entries: Array<[string, number]> = [];
    while (shard < USAGE_SHARDS && entries.length < count) {
      const [next, flat] = (await this.redis.hscan(usageKey(limit, periodId, shard), sub, {
        count: Math.max(10, count - entries.length),
      })) as [string | number, Array<string | number>];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const raw = String(flat[i + 1]);
        entries.push([String(flat[i]), limit.window.kind === "bucket" ? 0 : Math.max(0, Number(raw))]);
      }
      sub = String(next);
      if (sub === "0") shard++;
    }
    return { entries, cursor: shard >= USAGE_SHARDS ? "0" : `${shard}:${sub}` };
  }

  async usageSize(limit: LimitSpec, periodId: string) {
    const keys = Array.from({ length: USAGE_SHARDS }, (_, shard) => usageKey(limit, periodId, shard));
    const [tenants, bytes] = await this.run<[number, number]>(this.redis, SCRIPTS.size, keys, []);
    return { tenants: Number(tenants), bytes: Number(bytes) };
  }

  async getStats(dayId: string): Promise<StatsDelta> {
    const h = toRecord(await this.redis.exec(["HGETALL", statsKey(dayId)]));
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async getDenyList(): Promise<DenyEntry[]> {
    return parseDenyHash(toRecord(await this.redis.exec(["HGETALL", denyKey()])));
  }

  async putDeny(entry: DenyEntry): Promise<void> {
    const value = JSON.stringify({ reason: entry.reason, created: entry.createdAtMs });
    await this.once.exec(["HSET", denyKey(), denyField(entry.kind, entry.value), value]);
  }

  async deleteDeny(kind: DenyKind, value: string): Promise<boolean> {
    return Number(await this.once.exec(["HDEL", denyKey(), denyField(kind, value)])) === 1;
  }

  async acquireSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<SlotGrant> {
    const keys = scopes.map((s) => slotKey(s.kind, s.id));
    // Retried like an acquire: a resent call finds its slot id held and takes nothing more.
    const out = await this.run<number[]>(this.redis, SCRIPTS.slotsAcquire, keys, [
      slotId,
      nowMs,
      ttlMs,
      ...scopes.map((s) => s.limit),
    ]);
    return {
      ok: Number(out[0]) === 1,
      scopes: scopes.map((_, i) => ({ inUse: Number(out[1 + i]) })),
    };
  }

  async releaseSlots(scopes: SlotScope[], slotId: string): Promise<void> {
    if (!scopes.length) return;
    const keys = scopes.map((s) => slotKey(s.kind, s.id));
    await this.run<number>(this.redis, SCRIPTS.slotsRelease, keys, [slotId]);
  }

  async renewSlots(scopes: SlotScope[], slotId: string, nowMs: number, ttlMs: number): Promise<number> {
    if (!scopes.length) return 0;
    const keys = scopes.map((s) => slotKey(s.kind, s.id));
    return Number(await this.run<number>(this.redis, SCRIPTS.slotsRenew, keys, [slotId, nowMs, ttlMs]));
  }
}

export function createUpstashStore(opts: UpstashStoreOptions): UpstashStore {
  return new UpstashStore(opts);
}
