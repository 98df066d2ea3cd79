// Quota domain types shared by every part: windows, limits, plans, costs and decisions.

export type CalendarUnit = "second" | "minute" | "hour" | "day" | "month";

export type WindowSpec =
  /** Calendar window in UTC: resets at the start of each second/minute/hour/day/month. */
  | { kind: "fixed"; unit: CalendarUnit }
  /** Approximate sliding window: current bucket + the previous bucket weighted by its remaining overlap. */
  | { kind: "sliding"; sizeMs: number }
  /** Token bucket: `rate` units every `periodMs`, holding at most `burst`. */
  | { kind: "bucket"; rate: number; periodMs: number; burst: number };

export type LimitMode = "enforce" | "shadow";
/** strict: exact, spends allowance leased from the store. async: local counts synced periodically (every 10 s), may over-admit. */
export type SyncMode = "strict" | "async";
/** While the store is unreachable: admit and settle later, refuse, or admit a bounded share per isolate. */
export type FailurePolicy = "open" | "closed" | "degraded";

export interface LimitSpec {
  /** Stable storage identity: `<dimension>:<window label>`, e.g. `requests:minute`, `tokens:sliding:1h`. */
  id: string;
  /** Name shown in RateLimit-Policy / RateLimit headers, e.g. `requests-minute`. */
  name: string;
  dimension: string;
  window: WindowSpec;
  /** Units allowed per window (for a bucket: its burst). */
  limit: number;
  mode: LimitMode;
  sync: SyncMode;
}

export interface Plan {
  tenant: string;
  tier: string;
  limits: LimitSpec[];
  failure: FailurePolicy;
  /** Under `degraded`: the share of each limit one isolate admits per window while the store is away. */
  degradedShare: number;
  /** Requests of the tenant in flight at once, across isolates (undefined: no concurrency limit). */
  concurrency?: number | undefined;
  /** How the tenant's refused requests may wait (undefined: they never wait). */
  wait?: WaitRules | undefined;
}

/** A tier's waiting rules: how long a request may wait for allowance or a slot, and how many may wait. */
export interface WaitRules {
  /** Longest wait a request may be granted (a `Prefer: wait` above it gets this); 0: never waits. */
  maxMs: number;
  /** Wait granted to a request that sends no `Prefer: wait`. */
  defaultMs: number;
  /** Requests of one tenant waiting at once in an isolate. */
  maxDepth: number;
  /** Turns per round when waiting requests are admitted round-robin across tenants. */
  weight: number;
}

/** Units a request costs, per dimension. */
export type Cost = Record<string, number>;

export type DecisionReason =
  | "ok" // allowed: every limit fits
  | "limit" // denied: an enforced limit is exhausted
  | "store_unavailable" // denied: the store failed and the tier fails closed
  | "fail_open" // allowed: the store failed and the tier fails open
  | "degraded" // allowed or denied by the isolate's share of a limit while the store is unreachable
  | "disabled"; // allowed: quotas are switched off

export interface LimitState {
  limit: LimitSpec;
  /** Units this request costs against the limit's dimension. */
  cost: number;
  /** Units left after this decision (never below 0, never above limit). */
  remaining: number;
  /** When the window resets (calendar/sliding) or when a unit is next available (bucket), epoch ms. */
  resetAtMs: number;
  /** True when this limit alone would deny the request (also reported for shadow limits). */
  exceeded: boolean;
}

export interface Decision {
  allowed: boolean;
  reason: DecisionReason;
  tenant: string;
  tier: string;
  /** One entry per limit the request touches (costs of 0 included for status reporting). */
  states: LimitState[];
  /** For a denial: when the request may succeed, epoch ms. */
  retryAtMs?: number;
  /** True when the decision was taken without a store round trip. */
  local: boolean;
}

/** One limit a request touches and the units it costs there: costs are resolved once per request into this list. */
export interface Need {
  limit: LimitSpec;
  units: number;
}

/** The limits of a plan that a request's cost touches (units above 0), each with its units. */
export function needsOf(plan: Plan, cost: Cost): Need[] {
  const out: Need[] = [];
  for (const limit of plan.limits) {
    const units = cost[limit.dimension] ?? 0;
    if (units > 0) out.push({ limit, units });
  }
  return out;
}

/** A change to a stored counter: return unused allowance (negative) or record units admitted locally (positive). */
export interface UsageDelta {
  tenant: string;
  limit: LimitSpec;
  periodId: string;
  units: number;
}
