// Engine-level replay of one (workload, isolate count, variant): a private redis-server behind a private local
// Upstash server, N isolates deciding on a simulated clock, and the costs and decisions that come out.
import { setImmediate as nextTurn } from "node:timers/promises";
import IORedis from "ioredis";
import { createFakeClock } from "../../src/core/clock.ts";
import { startRedisServer } from "../../tools/redis-server.ts";
import { startUpstashLocal } from "../../tools/upstash-local/server.ts";
import { type Attributor, type KindCost, meterRoundTrips, type RoundTripMeter } from "./http-meter.ts";
import type { CacheFootprint, Variant } from "./variants.ts";
import type { Workload } from "./workloads.ts";

export interface ReplayOptions {
  /** Requests whose arrival falls in the same tick of simulated time are in flight together (the simulated store
   * round-trip time); all their decisions and waitUntil work complete before the next tick. Divides 60,000. */
  tickMs: number;
  /** Called with the number of requests decided so far. */
  onProgress: (done: number) => void;
}

export interface ReplayResult {
  requests: number;
  admitted: Uint8Array;
  wallMs: number;
  /** CPU time the run cost: this thread (the variant, the local Upstash server, the meter) plus redis-server. */
  cpuMs: number;
  /** Commands redis-server executed (scripts' inner commands included), as Upstash bills them. */
  redisCommands: number;
  /** Variants that attribute commands: Redis commands by what each round trip carried (acquire, flush...). */
  commandsByKind: Record<string, KindCost> | null;
  redisCommandstats: Record<string, number>;
  /** HTTP requests the local Upstash server received. */
  httpRequests: number;
  /** Round trips carrying request-path work (a request waited for them) vs waitUntil work. */
  requestPathRoundTrips: number;
  backgroundRoundTrips: number;
  /** Requests whose decision needed I/O (did not settle before the event loop could turn once). */
  blockedRequests: number;
  serverErrors: number;
  footprint: CacheFootprint | null;
  counters: Record<string, number>;
  /** Longest wall time one simulated minute took (Redis TTLs run in wall time). */
  maxWallPerSimMinuteMs: number;
  /** quotagate only: units recorded in Redis after the final flush minus units admitted, per window (minute only
   * when the run was short enough for its hashes to still exist). */
  recordedMinusAdmitted: Record<string, number> | null;
  waitUntilErrors: number;
}

const TOKEN = "bench-token";
/** quotagate keeps a minute period's hash 10 minutes past its end (PEXPIRE, which runs in wall time). */
const MINUTE_HASH_GRACE_MS = 9 * 60_000;

/** Sums every quotagate usage hash by limit id (`qg:u:<limit id>:<period>:{shard}`). */
async function recordedUsage(redisUrl: string): Promise<Record<string, number>> {
  const r = new IORedis(redisUrl, { lazyConnect: true, enableReadyCheck: false });
  await r.connect();
  try {
    const out: Record<string, number> = {};
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", "qg:u:*", "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const parts = key.slice("qg:u:".length).split(":");
        const limitId = parts.slice(0, -2).join(":");
        const h = await r.hgetall(key);
        for (const v of Object.values(h)) out[limitId] = (out[limitId] ?? 0) + Number(v);
      }
    } while (cursor !== "0");
    return out;
  } finally {
    r.disconnect();
  }
}

/** Redis's total_commands_processed. */
async function totalCommands(r: IORedis): Promise<number> {
  const text = await r.info("stats");
  const m = /total_commands_processed:(\d+)/.exec(text);
  if (!m) throw new Error("INFO stats has no total_commands_processed");
  return Number(m[1]);
}

/** redis-server's CPU time so far (INFO cpu: used_cpu_user + used_cpu_sys), ms. */
async function redisCpuMs(r: IORedis): Promise<number> {
  const text = await r.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? Number.NaN);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1000;
}

export async function replay(
  w: Workload,
  route: Uint8Array,
  isolates: number,
  variant: Variant,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  if (60_000 % opts.tickMs !== 0)
    throw new Error("tickMs must divide 60,000 (ticks never straddle a minute)");
  const redisServer = await startRedisServer();
  const upstash = await startUpstashLocal({ redisUrl: redisServer.url, token: TOKEN });
  const clock = createFakeClock(w.startMs);
  const run = variant.create({ workload: w, isolates, clock, upstashUrl: upstash.url, token: TOKEN });
  const info = new IORedis(redisServer.url, {
    lazyConnect: true,
    enableReadyCheck: false,
    disableClientInfo: true,
  });
  let meter: RoundTripMeter | null = null;
  const admitted = new Uint8Array(w.count);
  let blocked = 0;
  let waitUntilErrors = 0;
  let maxWallPerMinute = 0;
  try {
    await info.connect();
    // Read outside the measured window (before the reset, after the last snapshot): not counted as the variant's.
    const redisCpu0 = await redisCpuMs(info);
    const cpu0 = process.threadCpuUsage();
    upstash.resetStats();
    // Waits for the server's own baseline read, so every read of the attributor falls inside its delta.
    await upstash.snapshot();
    const attributor: Attributor | undefined = run.attribute
      ? { ...run.attribute, readCommands: () => totalCommands(info) }
      : undefined;
    meter = await meterRoundTrips(upstash.url, (body) => run.classify(body), attributor);
    const started = performance.now();
    let minuteStartedAt = started;
    let currentMinute = Math.floor(w.startMs / 60_000);
    let i = 0;
    let lastReport = 0;
    while (i < w.count) {
      const tick = Math.floor(w.times[i]! / opts.tickMs);
      let j = i;
      while (j < w.count && Math.floor(w.times[j]! / opts.tickMs) === tick) j++;
      const minute = Math.floor(w.times[i]! / 60_000);
      if (minute !== currentMinute) {
        const now = performance.now();
        maxWallPerMinute = Math.max(maxWallPerMinute, now - minuteStartedAt);
        minuteStartedAt = now;
        currentMinute = minute;
      }
      const background: Array<Promise<unknown>> = [];
      const waitUntil = (p: Promise<unknown>) => {
        background.push(
          p.catch(() => {
            waitUntilErrors++;
          }),
        );
      };
      const settled = new Uint8Array(j - i);
      const decisions: Array<Promise<void>> = [];
      for (let r = i; r < j; r++) {
        const t = w.times[r]!;
        clock.set(t);
        decisions.push(
          run.decide(w.tenantOf[r]!, t, route[r]!, waitUntil).then((ok) => {
            admitted[r] = ok ? 1 : 0;
            settled[r - i] = 1;
          }),
        );
      }
      // No round trip to the in-process server completes within one turn of the event loop: what has not settled
      // by now waited for I/O.
      await nextTurn();
      for (const s of settled) if (s === 0) blocked++;
      await Promise.all(decisions);
      while (background.length > 0) await Promise.all(background.splice(0));
      i = j;
      if (i - lastReport >= 2_000 || i === w.count) {
        opts.onProgress(i);
        lastReport = i;
      }
    }
    maxWallPerMinute = Math.max(maxWallPerMinute, performance.now() - minuteStartedAt);
    const footprint = run.footprint?.() ?? null;
    await run.finish();
    const wallMs = performance.now() - started;
    const rt = await meter.stop();
    const snap = await upstash.snapshot();
    const cpu = process.threadCpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 + (await redisCpuMs(info)) - redisCpu0;
    // The attributor's INFO reads went to the same Redis: they are not the variant's.
    const redisCommands = (snap.redis_commands ?? Number.NaN) - rt.infoReads;
    if (rt.infoReads > 0 && snap.redis_commandstats.info !== undefined) {
      snap.redis_commandstats.info -= rt.infoReads;
      if (snap.redis_commandstats.info <= 0) delete snap.redis_commandstats.info;
    }
    const recorded = variant.name.startsWith("quotagate") ? await recordedUsage(redisServer.url) : null;
    let recordedMinusAdmitted: Record<string, number> | null = null;
    if (recorded) {
      const admittedTotal = admitted.reduce((s, a) => s + a, 0);
      recordedMinusAdmitted = { day: (recorded["requests:day"] ?? 0) - admittedTotal };
      // Minute hashes expire 10 min (wall) after their period: only a short run still holds all of them.
      if (wallMs < MINUTE_HASH_GRACE_MS)
        recordedMinusAdmitted.minute = (recorded["requests:minute"] ?? 0) - admittedTotal;
    }
    return {
      requests: w.count,
      admitted,
      wallMs,
      cpuMs,
      redisCommands,
      commandsByKind: rt.byKind,
      redisCommandstats: snap.redis_commandstats,
      httpRequests: snap.http_requests,
      requestPathRoundTrips: rt.requestPath,
      backgroundRoundTrips: rt.background,
      blockedRequests: blocked,
      serverErrors: snap.errors,
      footprint,
      counters: run.counters(),
      maxWallPerSimMinuteMs: maxWallPerMinute,
      recordedMinusAdmitted,
      waitUntilErrors,
    };
  } finally {
    await meter?.stop();
    info.disconnect();
    await upstash.close();
    await redisServer.stop();
  }
}
