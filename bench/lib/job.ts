// One replay job, (workload, isolate count, variant) -> a results row; runs in a worker thread of the job pool.

import type { KindCost } from "./http-meter.ts";
import { replay } from "./replay.ts";
import type { ExchangeCost, ReplayRow } from "./results.ts";
import { accuracy, floorTriples, idealAdmitted } from "./truth.ts";
import { VARIANTS, type VariantName } from "./variants.ts";
import { buildWorkload, routeRequests, type Workload, type WorkloadName } from "./workloads.ts";

export interface JobSpec {
  workload: WorkloadName;
  scale: number;
  seed: number;
  isolates: number;
  variant: VariantName;
  tickMs: number;
}

interface Built {
  w: Workload;
  /** Requests an exact limiter admits (1) on this sequence, and how many. */
  exact: Uint8Array;
  ideal: number;
}

const built = new Map<string, Built>();

/** The workload (built once per thread: it is deterministic) and what an exact limiter admits on it. */
export function workloadOf(name: WorkloadName, scale: number, seed: number): Built {
  const key = `${name}/${scale}/${seed}`;
  let hit = built.get(key);
  if (!hit) {
    const w = buildWorkload(name, scale, seed);
    const exact = idealAdmitted(w);
    hit = { w, exact, ideal: exact.reduce((s, a) => s + a, 0) };
    built.set(key, hit);
  }
  return hit;
}

export async function runJob(spec: JobSpec, onProgress: (done: number) => void): Promise<ReplayRow> {
  const { w, exact, ideal } = workloadOf(spec.workload, spec.scale, spec.seed);
  const route = routeRequests(w, spec.isolates, spec.seed);
  const floor = floorTriples(w, route, spec.isolates);
  const r = await replay(w, route, spec.isolates, VARIANTS[spec.variant], {
    tickMs: spec.tickMs,
    onProgress,
  });
  const n = r.requests;
  return {
    workload: w.name,
    isolates: spec.isolates,
    variant: spec.variant,
    requests: n,
    wallMs: Math.round(r.wallMs),
    cpuMs: Math.round(r.cpuMs),
    redisCommands: r.redisCommands,
    redisCommandsPerRequest: r.redisCommands / n,
    redisCommandstats: r.redisCommandstats,
    httpRequests: r.httpRequests,
    httpPerRequest: r.httpRequests / n,
    requestPathRoundTripsPerRequest: r.requestPathRoundTrips / n,
    backgroundRoundTripsPerRequest: r.backgroundRoundTrips / n,
    blockedRequestFraction: r.blockedRequests / n,
    floorTriples: floor,
    floorPerRequest: floor / n,
    idealAdmitted: ideal,
    accuracy: accuracy(w, r.admitted, spec.tickMs, exact),
    footprint: r.footprint,
    counters: r.counters,
    exchangesPerRequest: r.counters.acquires !== undefined ? r.counters.acquires / n : null,
    exchange: exchangeCost(
      r.commandsByKind,
      r.counters,
      r.redisCommands,
      n,
      n - r.admitted.reduce((s, a) => s + a, 0),
    ),
    flushesPerRequest: r.counters.flushes !== undefined ? r.counters.flushes / n : null,
    maxWallPerSimMinuteMs: Math.round(r.maxWallPerSimMinuteMs),
    recordedMinusAdmitted: r.recordedMinusAdmitted,
    serverErrors: r.serverErrors,
    waitUntilErrors: r.waitUntilErrors,
  };
}

/** What quotagate's exchanges and flushes cost in Redis commands (null for variants that do not attribute). */
function exchangeCost(
  byKind: Record<string, KindCost> | null,
  counters: Record<string, number>,
  total: number,
  requests: number,
  denied: number,
): ExchangeCost | null {
  if (!byKind) return null;
  const none: KindCost = { roundTrips: 0, calls: 0, commands: 0, grantedCalls: 0, grantingCommands: 0 };
  const acq = byKind.acquire ?? none;
  const fl = byKind.flush ?? none;
  const attributed = Object.values(byKind).reduce((s, k) => s + k.commands, 0);
  const acquires = counters.acquires ?? acq.calls;
  const refused = acq.commands - acq.grantingCommands;
  return {
    acquires,
    acquireRoundTrips: acq.roundTrips,
    acquireCommands: acq.commands,
    commandsPerAcquire: acquires > 0 ? acq.commands / acquires : null,
    grantedAcquires: acq.grantedCalls,
    refusedAcquireCommands: refused,
    flushes: counters.flushes ?? fl.calls,
    flushRoundTrips: fl.roundTrips,
    flushCommands: fl.commands,
    flushCommandsPerRequest: fl.commands / requests,
    otherCommands: total - acq.commands - fl.commands,
    unattributed: total - attributed,
    denied,
    refusedCommandsPerDenial: denied > 0 ? refused / denied : null,
    nonGrantingCommandsPerDenial: denied > 0 ? (total - acq.grantingCommands) / denied : null,
  };
}

/** The floor for an isolate count without running anything (for rows copied from an isolate-independent run). */
export function floorOf(name: WorkloadName, scale: number, seed: number, isolates: number): number {
  const { w } = workloadOf(name, scale, seed);
  return floorTriples(w, routeRequests(w, isolates, seed), isolates);
}
