// The replayed traffic: seeded request sequences (time, tenant) and the isolate each request lands on.
import { defaultPolicy } from "../../src/policy/default-policy.ts";
import { createPrng, createZipf, deriveSeed, zipfTopShare } from "./prng.ts";

export const WORKLOAD_NAMES = ["seed-002-uniform", "seed-002-zipf", "long-tail", "hot", "far-below"] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface TenantSpec {
  id: string;
  tier: string;
  /** Requests per calendar minute (UTC). */
  minute: number;
  /** Requests per calendar day (UTC). */
  day: number;
  /** Requests per minute this tenant sends, for workloads that draw a rate per tenant (far-below). */
  ratePerMin?: number;
}

export interface Workload {
  name: WorkloadName;
  description: string;
  startMs: number;
  durationMs: number;
  /** Aggregate arrival rate, requests per second (Poisson). */
  ratePerSec: number;
  tenants: TenantSpec[];
  /** Request i arrives at times[i] (epoch ms, integer, non-decreasing) for tenant tenantOf[i]. */
  times: Float64Array;
  tenantOf: Uint32Array;
  count: number;
}

/** The seed-002 workloads' tiers: 120 per minute and 100,000 per day for every identifier. */
const SEED_LIMITS = { minute: 120, day: 100_000 };
/** 2026-11-23 22:00 UTC: a full (3 h) seed-002 replay crosses midnight, so the day window rolls over too. */
export const START_MS = Date.UTC(2026, 10, 23, 22, 0, 0);
const HOUR = 3_600_000;
/** Every replay spans at least two calendar minutes, so each one crosses a window boundary. */
export const MIN_DURATION_MS = 120_000;
/** Isolate counts replayed when --isolates is not given (a workload may narrow them: see Shape.isolates). */
export const DEFAULT_ISOLATES = [1, 4, 8, 16, 64] as const;

function tierLimits(tier: string): { minute: number; day: number } {
  const t = defaultPolicy.tiers[tier];
  if (!t) throw new Error(`default policy has no tier ${tier}`);
  const find = (w: string) =>
    t.limits.find((l) => l.window === w && (l.dimension ?? "requests") === "requests");
  const minute = find("minute")?.limit;
  const day = find("day")?.limit;
  if (minute === undefined || day === undefined)
    throw new Error(`tier ${tier} lacks minute/day request limits`);
  return { minute, day };
}

interface Shape {
  description: string;
  durationMs: number;
  /** Shortest replay whatever the scale (default MIN_DURATION_MS). */
  minDurationMs?: number;
  /** Isolate counts replayed by default (default DEFAULT_ISOLATES). */
  isolates?: readonly number[];
  /** Aggregate arrival rate, requests per second; a function when it follows from the drawn tenants. */
  ratePerSec: number | ((tenants: TenantSpec[]) => number);
  tenants: (rand: () => number) => TenantSpec[];
  /** Picks the tenant of the next request. */
  pick: (tenants: TenantSpec[], rand: () => number) => () => number;
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** far-below: every tenant's limits and the range of its rate as a share of its per-minute limit. */
const FAR_LIMITS = { minute: 40, day: 10_000 };
const FAR_TENANTS = 10_000;
const FAR_SHARE = { min: 0.01, max: 0.1 };
function farBelowTenants(rand: () => number): TenantSpec[] {
  return Array.from({ length: FAR_TENANTS }, (_, i) => ({
    id: `f-${pad(i, 5)}`,
    tier: "far",
    ...FAR_LIMITS,
    ratePerMin: FAR_LIMITS.minute * (FAR_SHARE.min + rand() * (FAR_SHARE.max - FAR_SHARE.min)),
  }));
}

const ratesOf = (tenants: TenantSpec[]) => Float64Array.from(tenants, (t) => t.ratePerMin ?? 0);

/** Sampler of indices 0..n-1 with P(i) proportional to weights[i]. */
function weighted(weights: Float64Array, rand: () => number): () => number {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    cdf[i] = sum;
  }
  return () => {
    const u = rand() * sum;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const SHAPES: Record<WorkloadName, Shape> = {
  "seed-002-uniform": {
    description:
      "100 identifiers, 203 req/s in all (2.03 req/s = 121.8/min each, i.e. every identifier just at its 120/min limit), 3 h, limits 120/minute + 100,000/day",
    durationMs: 3 * HOUR,
    ratePerSec: 203,
    tenants: () =>
      Array.from({ length: 100 }, (_, i) => ({ id: `id-${pad(i, 3)}`, tier: "seed", ...SEED_LIMITS })),
    pick: (t, rand) => () => Math.floor(rand() * t.length),
  },
  "seed-002-zipf": {
    description: `the same traffic with Zipf(1.0) popularity over 100 identifiers (the top one sends ${(zipfTopShare(100, 1) * 100).toFixed(1)}% = ${Math.round(zipfTopShare(100, 1) * 203 * 60)}/min), 203 req/s, 3 h, limits 120/minute + 100,000/day`,
    durationMs: 3 * HOUR,
    ratePerSec: 203,
    tenants: () =>
      Array.from({ length: 100 }, (_, i) => ({ id: `id-${pad(i, 3)}`, tier: "seed", ...SEED_LIMITS })),
    pick: (t, rand) => createZipf(t.length, 1, rand),
  },
  "long-tail": {
    description:
      "10,000 tenants, Zipf(1.0) popularity, 300 req/s, 1 h; tiers drawn at random (80% free, 15% pro, 5% enterprise) with the default policy's limits (100/1,000/10,000 per minute, 1,000/100,000/10,000,000 per day)",
    durationMs: HOUR,
    ratePerSec: 300,
    tenants: (rand) =>
      Array.from({ length: 10_000 }, (_, i) => {
        const u = rand();
        const tier = u < 0.8 ? "free" : u < 0.95 ? "pro" : "enterprise";
        return { id: `t-${pad(i, 5)}`, tier, ...tierLimits(tier) };
      }),
    pick: (t, rand) => createZipf(t.length, 1, rand),
  },
  hot: {
    description:
      "one tenant at 50x its per-minute limit: 6,000 req/min (100 req/s) against 120/minute + 100,000/day, 30 min",
    durationMs: HOUR / 2,
    ratePerSec: 100,
    tenants: () => [{ id: "hot-1", tier: "seed", ...SEED_LIMITS }],
    pick: () => () => 0,
  },
  "far-below": {
    description: `${FAR_TENANTS.toLocaleString("en-US")} tenants far below their limits: each sends at a seeded random rate of ${FAR_SHARE.min * 100}-${FAR_SHARE.max * 100}% of its ${FAR_LIMITS.minute}/minute limit (${FAR_LIMITS.minute * FAR_SHARE.min}-${FAR_LIMITS.minute * FAR_SHARE.max} req/min; day limit ${FAR_LIMITS.day.toLocaleString("en-US")}), ~${Math.round((FAR_TENANTS * FAR_LIMITS.minute * (FAR_SHARE.min + FAR_SHARE.max)) / 2 / 60)} req/s in all, Poisson, at least 5 min (nothing should be denied); replayed over 64 isolates by default`,
    durationMs: HOUR / 6,
    minDurationMs: 5 * 60_000,
    isolates: [64],
    ratePerSec: (tenants) => ratesOf(tenants).reduce((s, r) => s + r, 0) / 60,
    tenants: farBelowTenants,
    pick: (t, rand) => weighted(ratesOf(t), rand),
  },
};

/** Isolate counts a workload is replayed at when --isolates is not given. */
export function defaultIsolatesOf(name: WorkloadName): readonly number[] {
  return SHAPES[name].isolates ?? DEFAULT_ISOLATES;
}

/** Builds a workload's request sequence: Poisson arrivals at the shape's rate over scale x its duration. */
export function buildWorkload(name: WorkloadName, scale: number, seed: number): Workload {
  const shape = SHAPES[name];
  const durationMs = Math.max(
    shape.minDurationMs ?? MIN_DURATION_MS,
    Math.round((shape.durationMs * scale) / 1000) * 1000,
  );
  const tenants = shape.tenants(createPrng(deriveSeed(seed, `${name}:tiers`)));
  const ratePerSec = typeof shape.ratePerSec === "number" ? shape.ratePerSec : shape.ratePerSec(tenants);
  const rand = createPrng(deriveSeed(seed, `${name}:arrivals`));
  const pick = shape.pick(tenants, createPrng(deriveSeed(seed, `${name}:tenants`)));
  const expected = Math.ceil((durationMs / 1000) * ratePerSec * 1.05) + 1024;
  let times = new Float64Array(expected);
  let tenantOf = new Uint32Array(expected);
  const meanGapMs = 1000 / ratePerSec;
  let t = 0;
  let n = 0;
  for (;;) {
    t += -Math.log(1 - rand()) * meanGapMs;
    if (t >= durationMs) break;
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
      const biggerT = new Uint32Array(tenantOf.length * 2);
      biggerT.set(tenantOf);
      tenantOf = biggerT;
    }
    times[n] = START_MS + Math.floor(t);
    tenantOf[n] = pick();
    n++;
  }
  return {
    name,
    description: shape.description,
    startMs: START_MS,
    durationMs,
    ratePerSec,
    tenants,
    times: times.subarray(0, n),
    tenantOf: tenantOf.subarray(0, n),
    count: n,
  };
}

/** Isolate of each request for a fleet of n isolates: uniformly random, seeded per (workload, n). */
export function routeRequests(w: Workload, isolates: number, seed: number): Uint8Array {
  const rand = createPrng(deriveSeed(seed, `${w.name}:route:${isolates}`));
  const out = new Uint8Array(w.count);
  for (let i = 0; i < w.count; i++) out[i] = Math.floor(rand() * isolates);
  return out;
}
