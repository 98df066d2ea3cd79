// The JSON view of a tenant's limits (used, remaining, reset), shared by /quota/status and the admin tenant route.
import type { LimitSpec, LimitState } from "../core/quota.ts";

/** The window as written in the policy: `minute`, `sliding:1h`, `bucket:10/s,burst=20`. */
export const windowOf = (l: LimitSpec): string => l.id.slice(l.dimension.length + 1);

export function limitUsage(states: LimitState[], nowMs: number) {
  return states.map((s) => ({
    name: s.limit.name,
    dimension: s.limit.dimension,
    window: windowOf(s.limit),
    limit: s.limit.limit,
    used: s.limit.limit - s.remaining,
    remaining: s.remaining,
    reset_at: new Date(s.resetAtMs).toISOString(),
    reset_in_seconds: Math.max(0, Math.ceil((s.resetAtMs - nowMs) / 1000)),
    mode: s.limit.mode,
    sync: s.limit.sync,
  }));
}
