// Counts what the server did (requests, commands, pipelines, transactions, errors) and what Redis executed.

import type { Redis } from "ioredis";
import { sendRaw } from "./redis-pool.ts";
import { isBuffer } from "./reply-json.ts";

export type UpstashLocalStats = {
  /** HTTP requests received, except the /__stats endpoints themselves. */
  http_requests: number;
  /** Commands received in valid request bodies (single, pipeline and transaction commands). */
  commands: number;
  /** POST /pipeline requests with a valid body. */
  pipelines: number;
  /** POST /multi-exec requests with a valid body. */
  transactions: number;
  /** Error answers: non-2xx responses plus `{error}` entries inside pipeline and transaction results. */
  errors: number;
};

export type UpstashLocalSnapshot = UpstashLocalStats & {
  /**
   * Commands redis-server executed since the last reset (INFO stats total_commands_processed delta),
   * including those run inside Lua scripts, as Upstash bills them, and MULTI/EXEC themselves, minus
   * this server's own INFO calls. Commands from other Redis clients count too. null if INFO failed.
   */
  redis_commands: number | null;
  /** The same delta per command from INFO commandstats (`set`, `evalsha`, `script|load`...), zeros left out. */
  redis_commandstats: Record<string, number>;
};

export type StatsRecorder = {
  /** Live counters; the server increments them. */
  readonly counters: UpstashLocalStats;
  /** Zeroes the counters and takes a new Redis baseline. */
  reset(): void;
  /** Resolves once the baseline of the last reset has been read. */
  ready(): Promise<void>;
  snapshot(): Promise<UpstashLocalSnapshot>;
};

type RedisCounts = { total: number; perCommand: Map<string, number> };

function zeroCounters(): UpstashLocalStats {
  return { http_requests: 0, commands: 0, pipelines: 0, transactions: 0, errors: 0 };
}

function parseInfo(text: string): RedisCounts {
  let total = 0;
  const perCommand = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const totalMatch = /^total_commands_processed:(\d+)/.exec(line);
    if (totalMatch?.[1] !== undefined) total = Number(totalMatch[1]);
    const commandMatch = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (commandMatch?.[1] !== undefined && commandMatch[2] !== undefined) {
      perCommand.set(commandMatch[1], Number(commandMatch[2]));
    }
  }
  return { total, perCommand };
}

/**
 * Redis counts a command after running it, so an INFO reply excludes that INFO but includes every
 * earlier one. All INFO calls go through the shared connection, which Redis serves in order, so the
 * number of our INFO calls issued before this one is exactly the number to subtract.
 */
export function createStatsRecorder(redis: Redis): StatsRecorder {
  const counters = zeroCounters();
  let infoCallsSinceBaseline = 0;
  let baseline: Promise<RedisCounts | undefined> = Promise.resolve(undefined);

  const readInfo = async (): Promise<RedisCounts> => {
    const reply: unknown = await sendRaw(redis, "info", ["stats", "commandstats"]);
    return parseInfo(isBuffer(reply) ? reply.toString("utf8") : String(reply));
  };

  const reset = (): void => {
    Object.assign(counters, zeroCounters());
    // Issued synchronously, so it reaches Redis ahead of any command sent after reset().
    baseline = readInfo().catch(() => undefined);
    infoCallsSinceBaseline = 1;
  };
  reset();

  return {
    counters,
    reset,
    async ready() {
      await baseline;
    },
    async snapshot() {
      const local = { ...counters };
      const ownInfoCalls = infoCallsSinceBaseline;
      infoCallsSinceBaseline += 1;
      const [base, current] = await Promise.all([baseline, readInfo().catch(() => undefined)]);
      if (base === undefined || current === undefined) {
        return { ...local, redis_commands: null, redis_commandstats: {} };
      }
      const redisCommandstats: Record<string, number> = {};
      for (const [name, calls] of current.perCommand) {
        const delta = calls - (base.perCommand.get(name) ?? 0) - (name === "info" ? ownInfoCalls : 0);
        if (delta > 0) redisCommandstats[name] = delta;
      }
      return {
        ...local,
        redis_commands: current.total - base.total - ownInfoCalls,
        redis_commandstats: redisCommandstats,
      };
    },
  };
}
