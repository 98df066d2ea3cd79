// Counters of the waiting room and the waits of the last requests that left it (average and longest), for
// GET /queue/stats, the admin stats and the health check.

/** Waits remembered for the average and the maximum: the most recent ones, so the figures recover after a burst. */
export const RECENT_WAITS = 100;

export class WaitStats {
  admitted = 0;
  expired = 0;
  aborted = 0;
  /** Requests refused because the queue was full (they never waited). */
  rejected = 0;
  private readonly recent: number[] = [];
  private next = 0;

  record(kind: "done" | "expired" | "aborted", waitedMs: number): void {
    if (kind === "done") this.admitted++;
    else if (kind === "expired") this.expired++;
    else this.aborted++;
    if (this.recent.length < RECENT_WAITS) this.recent.push(waitedMs);
    else this.recent[this.next] = waitedMs;
    this.next = (this.next + 1) % RECENT_WAITS;
  }

  /** Average and longest of the recent waits, ms (0 when none ended yet). */
  waits(): { avgMs: number; maxMs: number } {
    if (this.recent.length === 0) return { avgMs: 0, maxMs: 0 };
    let sum = 0;
    let max = 0;
    for (const ms of this.recent) {
      sum += ms;
      max = Math.max(max, ms);
    }
    return { avgMs: Math.round(sum / this.recent.length), maxMs: max };
  }
}

/** The queue is degraded above these: one tenant's waiting requests, all waiting requests, the average wait. */
export const TENANT_DEPTH_WARN = 50;
export const GLOBAL_DEPTH_WARN = 1_000;
export const AVG_WAIT_WARN_MS = 60_000;

/** The waiting room and slots of one isolate, as the stats routes report them. */
export interface QueueSnapshot {
  depth: number;
  maxDepth: number;
  /** Waiting requests per tenant (tenants with none are left out). */
  tenants: Array<[tenant: string, depth: number]>;
  avgWaitMs: number;
  maxWaitMs: number;
  oldestWaitMs: number;
  admitted: number;
  expired: number;
  aborted: number;
  rejected: number;
  /** Slots held by this isolate's requests in flight, per scope. */
  slots: { tenant: number; origin: number };
}

export function queueHealth(s: QueueSnapshot): { status: "ok" | "warn"; reasons: string[] } {
  const reasons: string[] = [];
  const deepest = s.tenants.reduce<[string, number] | null>((m, t) => (!m || t[1] > m[1] ? t : m), null);
  if (deepest && deepest[1] > TENANT_DEPTH_WARN)
    reasons.push(`tenant "${deepest[0]}" has ${deepest[1]} waiting requests (over ${TENANT_DEPTH_WARN})`);
  if (s.depth > GLOBAL_DEPTH_WARN) reasons.push(`${s.depth} requests wait (over ${GLOBAL_DEPTH_WARN})`);
  if (s.avgWaitMs > AVG_WAIT_WARN_MS)
    reasons.push(
      `the average wait is ${Math.round(s.avgWaitMs / 1000)} s (over ${AVG_WAIT_WARN_MS / 1000} s)`,
    );
  return { status: reasons.length ? "warn" : "ok", reasons };
}
