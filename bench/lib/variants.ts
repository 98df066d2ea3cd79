// The rate limiters under comparison, each behind one interface: a naive and local-count-and-sync
// limiters, @upstash/ratelimit (fixed and sliding window), and quotagate's Limiter in strict and async mode.
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import type { FakeClock } from "../../src/core/clock.ts";
import type { Plan } from "../../src/core/quota.ts";
import { Limiter, type WaitUntil } from "../../src/limiter/limiter.ts";
import { Metrics } from "../../src/metrics/metrics.ts";
import { compilePolicy } from "../../src/policy/compiled-policy.ts";
import { policySchema } from "../../src/policy/policy-schema.ts";
import type { Store } from "../../src/store/store.ts";
import { SCRIPTS } from "../../src/store/upstash/scripts.ts";
import { createUpstashStore } from "../../src/store/upstash/upstash-store.ts";
import type { Attributor, RoundTripKind } from "./http-meter.ts";
import type { Workload } from "./workloads.ts";

export const VARIANT_NAMES = [
  "naive",
  "seed-sync",
  "upstash-ratelimit-fixed",
  "upstash-ratelimit-sliding",
  "quotagate-strict",
  "quotagate-async",
] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export interface VariantContext {
  workload: Workload;
  isolates: number;
  clock: FakeClock;
  upstashUrl: string;
  token: string;
}

export interface CacheFootprint {
  /** Entries held, summed over isolates. */
  entries: number;
  /** Estimated bytes (the cache's own sizeOf accounting), summed over isolates. */
  bytes: number;
  /** Distinct (isolate, tenant) pairs with at least one entry. */
  tenants: number;
}

export interface VariantRun {
  /**
   * Decides one request of tenant `k` arriving at `t` on isolate `iso`. The clock already reads `t`; everything the
   * decision reads of the time must be read synchronously. Background work goes to `waitUntil`.
   */
  decide(k: number, t: number, iso: number, waitUntil: WaitUntil): Promise<boolean>;
  /** End of the replay: send whatever is still held locally. */
  finish(): Promise<void>;
  /** Which round trips a request waited for. */
  classify(body: string): RoundTripKind;
  /** Set to have the Redis commands of every round trip attributed to what it carried (round trips then go one
   * at a time). */
  attribute?: Pick<Attributor, "kindOf" | "granted">;
  /** Isolate cache footprint (quotagate only). */
  footprint?(): CacheFootprint;
  /** Variant-specific counters (store calls, errors, fail-opens...). */
  counters(): Record<string, number>;
}

export interface Variant {
  name: VariantName;
  /** Decisions and costs do not depend on the number of isolates (no per-isolate state). */
  isolateIndependent: boolean;
  create(ctx: VariantContext): VariantRun;
}

const dayString = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * TTLs (seconds) of the naive and seed-sync keys. The seed sets 60 and 86,400; but TTLs run in wall time, and on a
 * busy machine a simulated minute can take longer than a wall minute, which would expire a count mid-window and
 * over-admit. The keys name their minute or day, so a longer TTL changes no decision and no command count.
 */
const KEY_TTL = { minute: 3_600, day: 2 * 86_400 };
const requestPath = (): RoundTripKind => "request";

function upstashClient(ctx: VariantContext, autoPipelining: boolean): Redis {
  return new Redis({
    url: ctx.upstashUrl,
    token: ctx.token,
    enableTelemetry: false,
    enableAutoPipelining: autoPipelining,
    // A failed command is a failed benchmark, not something to retry behind our back.
    retry: { retries: 0 },
  });
}

/**
 * Seed 002 "before": per request and per window, INCR and (when the count is 1) EXPIRE, one command per round trip
 * (the seed is a Python backend without pipelining). Counts denied requests too, like the seed, and denies when a
 * count passes its limit. No state outside Redis, so the isolate count changes nothing.
 */
const naive: Variant = {
  name: "naive",
  isolateIndependent: true,
  create(ctx) {
    const redis = Array.from({ length: ctx.isolates }, () => upstashClient(ctx, false));
    return {
      async decide(k, t, iso) {
        const r = redis[iso]!;
        const spec = ctx.workload.tenants[k]!;
        const minuteKey = `rl:min:${spec.id}:${Math.floor(t / 60_000)}`;
        const dayKey = `rl:day:${spec.id}:${dayString(t)}`;
        const minCount = await r.incr(minuteKey);
        if (minCount === 1) await r.expire(minuteKey, KEY_TTL.minute);
        const dayCount = await r.incr(dayKey);
        if (dayCount === 1) await r.expire(dayKey, KEY_TTL.day);
        return minCount <= spec.minute && dayCount <= spec.day;
      },
      async finish() {},
      classify: requestPath,
      counters: () => ({}),
    };
  },
};

interface SeedLocal {
  minute: number;
  day: number;
  minCount: number;
  dayCount: number;
  lastSync: number;
}

/**
 * Seed 002 "after", line by line: per-process counters per identifier, reset when the minute or day changes; deny on
 * local counts only; sync (one pipeline: INCRBY + EXPIRE per window) when more than 30 s passed since the last sync
 * or on the first request of a minute or day, synchronously on the request path. Like the seed, it INCRBYs the
 * cumulative local count (Redis overcounts; no decision reads it back).
 */
const seedSync: Variant = {
  name: "seed-sync",
  isolateIndependent: false,
  create(ctx) {
    const redis = Array.from({ length: ctx.isolates }, () => upstashClient(ctx, false));
    const local = Array.from({ length: ctx.isolates }, () => new Map<number, SeedLocal>());
    let syncs = 0;
    return {
      async decide(k, t, iso) {
        const spec = ctx.workload.tenants[k]!;
        const now = Math.floor(t / 1000);
        const minute = Math.floor(now / 60);
        const day = Math.floor(now / 86_400);
        const book = local[iso]!;
        let l = book.get(k);
        if (!l) {
          l = { minute, day, minCount: 0, dayCount: 0, lastSync: now };
          book.set(k, l);
        }
        if (l.minute !== minute) {
          l.minute = minute;
          l.minCount = 0;
        }
        if (l.day !== day) {
          l.day = day;
          l.dayCount = 0;
        }
        l.minCount++;
        l.dayCount++;
        if (l.minCount > spec.minute || l.dayCount > spec.day) return false;
        if (now - l.lastSync > 30 || l.minCount === 1 || l.dayCount === 1) {
          const minuteKey = `rl:min:${spec.id}:${minute}`;
          const dayKey = `rl:day:${spec.id}:${dayString(t)}`;
          const p = redis[iso]!.pipeline();
          p.incrby(minuteKey, l.minCount);
          p.expire(minuteKey, KEY_TTL.minute);
          p.incrby(dayKey, l.dayCount);
          p.expire(dayKey, KEY_TTL.day);
          l.lastSync = now;
          syncs++;
          await p.exec();
        }
        return true;
      },
      async finish() {},
      classify: requestPath,
      counters: () => ({ syncs }),
    };
  },
};

/**
 * Runs `fn` with Date.now() reading the simulated time. @upstash/ratelimit reads Date.now() only synchronously at the
 * start of limit() (window bucket, sliding weight, ephemeral-cache expiry) and passes the time to its Lua scripts
 * as arguments, so this replays it on the simulated clock; only its PEXPIRE TTLs run in wall time (checked by the
 * caller: a simulated minute must take less than a wall minute).
 */
function atSimulatedTime<T>(t: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => t;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

/**
 * @upstash/ratelimit with its ephemeral cache: per isolate one Redis client (library defaults, so auto-pipelining
 * is on) and, per tier, one Ratelimit per window (minute and day need two limit() calls, not atomic: the minute
 * is called first and a minute denial skips the day call; a day denial still spent a minute unit).
 */
function upstashRatelimit(kind: "fixed" | "sliding"): Variant {
  return {
    name: kind === "fixed" ? "upstash-ratelimit-fixed" : "upstash-ratelimit-sliding",
    isolateIndependent: false,
    create(ctx) {
      const make = (tokens: number, window: "60 s" | "1 d") =>
        kind === "fixed" ? Ratelimit.fixedWindow(tokens, window) : Ratelimit.slidingWindow(tokens, window);
      const tiers = new Map<string, { minute: number; day: number }>();
      for (const t of ctx.workload.tenants) tiers.set(t.tier, { minute: t.minute, day: t.day });
      const isolates = Array.from({ length: ctx.isolates }, () => {
        const redis = upstashClient(ctx, true);
        const byTier = new Map<string, { minute: Ratelimit; day: Ratelimit }>();
        for (const [tier, l] of tiers) {
          byTier.set(tier, {
            minute: new Ratelimit({
              redis,
              limiter: make(l.minute, "60 s"),
              prefix: `rl-${kind}:${tier}:minute`,
              ephemeralCache: new Map(),
              analytics: false,
            }),
            day: new Ratelimit({
              redis,
              limiter: make(l.day, "1 d"),
              prefix: `rl-${kind}:${tier}:day`,
              ephemeralCache: new Map(),
              analytics: false,
            }),
          });
        }
        return byTier;
      });
      let timeouts = 0;
      let cacheBlocks = 0;
      const check = async (rl: Ratelimit, id: string, t: number) => {
        const r = await atSimulatedTime(t, () => rl.limit(id));
        if (r.reason === "timeout") timeouts++;
        if (r.reason === "cacheBlock") cacheBlocks++;
        return r.success;
      };
      return {
        async decide(k, t, iso) {
          const spec = ctx.workload.tenants[k]!;
          const rl = isolates[iso]!.get(spec.tier)!;
          if (!(await check(rl.minute, spec.id, t))) return false;
          return await check(rl.day, spec.id, t);
        },
        async finish() {},
        classify: requestPath,
        counters: () => ({ timeouts, cache_blocks: cacheBlocks }),
      };
    },
  };
}

/** quotagate's store timeout in the replay: generous, so a scheduling hiccup of the busy bench machine does not
 * turn into a fail-open (timeouts are counted and reported either way). */
export const REPLAY_STORE_TIMEOUT_MS = 5_000;

/** Counts the limiter's store calls by operation without changing them. */
function countingStore(store: Store, counts: Record<string, number>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      const name = String(prop);
      return (...args: unknown[]) => {
        counts[name] = (counts[name] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The commands of a request body: one command (`["EVALSHA", ...]`) or a pipeline (`[[...], [...]]`). */
function commandsOf(body: string): unknown[][] {
  try {
    const json: unknown = JSON.parse(body);
    if (!Array.isArray(json)) return [];
    return Array.isArray(json[0]) ? (json as unknown[][]) : [json];
  } catch {
    return [];
  }
}

/** Which of quotagate's store scripts a command runs (by SHA or, after NOSCRIPT, by source), else its name. */
function scriptOf(cmd: unknown[]): string {
  const op = String(cmd[0]).toLowerCase();
  if (op !== "evalsha" && op !== "eval") return op;
  const ref = cmd[1];
  for (const s of [SCRIPTS.acquire, SCRIPTS.adjust]) if (ref === s.sha || ref === s.source) return s.name;
  return op;
}

/**
 * quotagate's round trips by what they carry: "acquire" (acquire scripts: exchanges, on the request path or
 * prefetched), "flush" (the adjust script for owed deltas and the fleet stats' HINCRBYs), or "other".
 */
const quotagateAttribution: NonNullable<VariantRun["attribute"]> = {
  kindOf(body) {
    const scripts = commandsOf(body).map(scriptOf);
    const acquires = scripts.filter((s) => s === "acquire").length;
    if (acquires > 0) return { kind: "acquire", calls: acquires };
    if (scripts.some((s) => s === "adjust" || s === "hincrby"))
      return { kind: "flush", calls: scripts.filter((s) => s === "adjust").length || 1 };
    return { kind: "other", calls: 0 };
  },
  /** An acquire's reply starts with 1 when it granted every item. */
  granted(body, reply) {
    const cmds = commandsOf(body);
    const replies = Array.isArray(reply) ? reply : [reply];
    let n = 0;
    cmds.forEach((c, i) => {
      const r = replies[i] as { result?: unknown } | null | undefined;
      if (scriptOf(c) === "acquire" && Array.isArray(r?.result) && Number(r.result[0]) === 1) n++;
    });
    return n;
  },
};

/**
 * quotagate's Limiter, one per isolate, each with its own UpstashStore (its own HTTP client, as separate isolates
 * have), sharing the fake clock. Plans come from the policy compiler; the worker's defaults otherwise (cache 10,000
 * entries, cache TTL 60 s).
 */
function quotagate(sync: "strict" | "async"): Variant {
  return {
    name: sync === "strict" ? "quotagate-strict" : "quotagate-async",
    isolateIndependent: false,
    create(ctx) {
      const tiers: Record<
        string,
        { limits: Array<{ window: string; limit: number; sync: "strict" | "async" }> }
      > = {};
      for (const t of ctx.workload.tenants) {
        tiers[t.tier] ??= {
          limits: [
            { window: "minute", limit: t.minute, sync },
            { window: "day", limit: t.day, sync },
          ],
        };
      }
      const policy = compilePolicy(
        policySchema.parse({ defaultTier: ctx.workload.tenants[0]!.tier, tiers, failure: "open" }),
      );
      const plans: Plan[] = ctx.workload.tenants.map((t) => policy.plan(t.id, t.tier));
      const storeCalls: Record<string, number> = {};
      const limiters = Array.from(
        { length: ctx.isolates },
        () =>
          new Limiter({
            store: countingStore(
              createUpstashStore({
                url: ctx.upstashUrl,
                token: ctx.token,
                timeoutMs: REPLAY_STORE_TIMEOUT_MS,
              }),
              storeCalls,
            ),
            clock: ctx.clock,
            metrics: new Metrics(),
            cacheSize: 10_000,
            cacheTtlMs: 60_000,
            storeTimeoutMs: REPLAY_STORE_TIMEOUT_MS,
          }),
      );
      const total = (name: Parameters<Metrics["total"]>[0], where: Record<string, string> = {}) =>
        limiters.reduce((s, l) => s + l.metrics.total(name, where), 0);
      return {
        async decide(k, _t, iso, waitUntil) {
          const d = await limiters[iso]!.decide(plans[k]!, { requests: 1 }, waitUntil);
          return d.allowed;
        },
        async finish() {
          await Promise.all(limiters.map((l) => l.flush({ returnAll: true })));
        },
        // Flushes run in waitUntil; acquires on the request path (prefetches, also acquires, count there too).
        classify: (body) => (quotagateAttribution.kindOf(body).kind === "flush" ? "background" : "request"),
        attribute: quotagateAttribution,
        footprint() {
          let entries = 0;
          let bytes = 0;
          let tenants = 0;
          for (const l of limiters) {
            for (const b of l.books.books()) entries += 1 + b.leases.size + b.denials.size + b.counts.size;
            bytes += l.books.byteSize;
            tenants += l.books.size;
          }
          return { entries, bytes, tenants };
        },
        counters: () => ({
          acquires: storeCalls.acquire ?? 0,
          flushes: storeCalls.flush ?? 0,
          store_errors: total("quotagate_store_errors_total"),
          fail_open: total("quotagate_decisions_total", { outcome: "allowed", reason: "fail_open" }),
          lease_grants: total("quotagate_lease_grants_total"),
          units_granted: total("quotagate_lease_units_granted_total"),
          units_returned: total("quotagate_lease_units_returned_total"),
        }),
      };
    },
  };
}

export const VARIANTS: Record<VariantName, Variant> = {
  naive,
  "seed-sync": seedSync,
  "upstash-ratelimit-fixed": upstashRatelimit("fixed"),
  "upstash-ratelimit-sliding": upstashRatelimit("sliding"),
  "quotagate-strict": quotagate("strict"),
  "quotagate-async": quotagate("async"),
};
