// The shape of a benchmark results file (bench/results/<timestamp>.json): one row per replay run, the live and
// cold-start measurements, and what ran where.
import type { ColdStartResult } from "./cold-start.ts";
import type { LiveResult } from "./live.ts";
import type { Machine, SourceState } from "./machine.ts";
import type { Accuracy } from "./truth.ts";
import type { CacheFootprint, VariantName } from "./variants.ts";
import type { WorkloadName } from "./workloads.ts";

/**
 * What quotagate's store traffic cost, from the Redis commands of each round trip (round trips go one at a time
 * and Redis's command counter is read after each). An exchange is one acquire call (one script run for all of a
 * request's limits), on the request path or prefetched; a flush is one background round trip of owed deltas and
 * fleet stats.
 */
export interface ExchangeCost {
  /** Acquire calls to the store. */
  acquires: number;
  /** Round trips carrying acquires (auto-pipelining may put several in one). */
  acquireRoundTrips: number;
  /** Redis commands of those round trips: EVALSHA (or EVAL after NOSCRIPT) and the script's inner commands. */
  acquireCommands: number;
  /** acquireCommands / acquires: the cost of one exchange. */
  commandsPerAcquire: number | null;
  /** Acquires whose reply granted every item. */
  grantedAcquires: number;
  /** Commands of acquires that granted nothing (pipelines split pro rata by call). */
  refusedAcquireCommands: number;
  /** Flush calls to the store, round trips carrying them and their Redis commands (the adjust script, the
   * stats' HINCRBYs and EXPIRE). */
  flushes: number;
  flushRoundTrips: number;
  flushCommands: number;
  flushCommandsPerRequest: number;
  /** Commands of round trips that carried neither. */
  otherCommands: number;
  /** Commands Redis counted that no round trip accounts for (0 when the attribution is complete). */
  unattributed: number;
  denied: number;
  /** Refused acquires' commands per denied request. */
  refusedCommandsPerDenial: number | null;
  /** Every command except those of granting acquires (flushes included), per denied request: an upper bound. */
  nonGrantingCommandsPerDenial: number | null;
}

export interface ReplayRow {
  workload: WorkloadName;
  isolates: number;
  variant: VariantName;
  /** Set when an isolate-independent variant's figures were measured once, at this isolate count. */
  reusedFrom?: number;
  requests: number;
  wallMs: number;
  /** CPU time of the run: its worker thread (variant, local Upstash server) plus redis-server (absent in results
   * written before it was measured). */
  cpuMs?: number;
  redisCommands: number;
  redisCommandsPerRequest: number;
  redisCommandstats: Record<string, number>;
  httpRequests: number;
  httpPerRequest: number;
  requestPathRoundTripsPerRequest: number;
  backgroundRoundTripsPerRequest: number;
  blockedRequestFraction: number;
  floorTriples: number;
  floorPerRequest: number;
  idealAdmitted: number;
  accuracy: Accuracy;
  footprint: CacheFootprint | null;
  counters: Record<string, number>;
  exchangesPerRequest: number | null;
  flushesPerRequest: number | null;
  /** quotagate only (absent in results written before it was measured). */
  exchange?: ExchangeCost | null;
  maxWallPerSimMinuteMs: number;
  recordedMinusAdmitted: Record<string, number> | null;
  serverErrors: number;
  waitUntilErrors: number;
}

export interface BenchResults {
  command: string;
  startedAt: string;
  wallMs: number;
  replayWallMs: number;
  machine: Machine;
  source: SourceState;
  options: {
    workloads: WorkloadName[];
    /** Isolate counts asked for on the command line; per workload in `workloads[].isolates` when not given. */
    isolates: number[] | null;
    variants: VariantName[];
    /** --scale when given; else each workload's default (see `workloads[].simulatedMinutes`). */
    scale: number;
    full: boolean;
    tickMs: number;
    seed: number;
    live: boolean;
    liveSeconds: number;
    liveInstances: number[];
    jobs: number;
  };
  workloads: Array<{
    name: WorkloadName;
    description: string;
    requests: number;
    tenants: number;
    simulatedMinutes: number;
    idealAdmitted: number;
    isolates?: number[];
  }>;
  replay: ReplayRow[];
  live: LiveResult | null;
  coldStart?: ColdStartResult | null;
}
