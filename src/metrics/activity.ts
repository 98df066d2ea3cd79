// What the dashboard charts for one isolate: per-minute figures over the last hour (views of the metrics' counters,
// sampled when a minute turns) and the tenants with the most admitted and denied requests (bounded top-k).
import type { Clock } from "../core/clock.ts";
import type { Metrics } from "./metrics.ts";
import { type HeavyHitter, TopK } from "./top-k.ts";

const MINUTE_MS = 60_000;

/** Counter totals a minute's figures are the differences of. */
interface Totals {
  allowed: number;
  denied: number;
  shadowDenied: number;
  denyBlocks: number;
  decisions: number;
  storeCalls: number;
  storeCommands: number;
  latencySum: number;
  latencyCount: number;
}

export interface MinuteFigures {
  /** Start of the minute, epoch ms. */
  minute: number;
  allowed: number;
  denied: number;
  /** Limit checks a shadow limit would have denied. */
  shadowDenied: number;
  denyBlocks: number;
  storeCallsPerRequest: number;
  storeCommandsPerRequest: number;
  /** Mean store round trip in the minute, ms (0 without one). */
  storeLatencyMs: number;
}

export interface ActivityOptions {
  metrics: Metrics;
  clock: Clock;
  /** Minutes kept. */
  minutes?: number;
  /** Tenants tracked per ranking. */
  topCapacity?: number;
}

export class Activity {
  private readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly keep: number;
  /** Totals at the first sample of each minute seen, oldest first (at most `keep` + 1). */
  private readonly marks: Array<{ minute: number; totals: Totals }> = [];
  readonly usage: TopK;
  readonly denials: TopK;

  constructor(o: ActivityOptions) {
    this.metrics = o.metrics;
    this.clock = o.clock;
    this.keep = o.minutes ?? 60;
    this.usage = new TopK(o.topCapacity ?? 100);
    this.denials = new TopK(o.topCapacity ?? 100);
  }

  private totals(): Totals {
    const m = this.metrics;
    const latency = m.histogramTotals("quotagate_store_latency_seconds");
    return {
      allowed: m.total("quotagate_decisions_total", { outcome: "allowed" }),
      denied: m.total("quotagate_decisions_total", { outcome: "denied" }),
      shadowDenied: m.total("quotagate_shadow_denials_total"),
      denyBlocks: m.total("quotagate_deny_blocks_total"),
      decisions: m.total("quotagate_decisions_total"),
      storeCalls: m.total("quotagate_store_calls_total"),
      storeCommands: m.total("quotagate_store_commands_total"),
      latencySum: latency.sum,
      latencyCount: latency.count,
    };
  }

  /** Marks the counters when a new minute starts. Called as a request arrives, before it is counted, so that what a
   * minute's requests did is credited to it. */
  sample(): void {
    const minute = Math.floor(this.clock.now() / MINUTE_MS) * MINUTE_MS;
    const last = this.marks.at(-1);
    if (last && last.minute >= minute) return;
    this.marks.push({ minute, totals: this.totals() });
    while (this.marks.length > this.keep + 1) this.marks.shift();
  }

  /** Counts a quota decision for the tenant rankings. */
  record(tenant: string, allowed: boolean): void {
    (allowed ? this.usage : this.denials).add(tenant);
  }

  /** The last `minutes` minutes, oldest first, the current one included; minutes without traffic are zeros. */
  minutes(minutes: number): MinuteFigures[] {
    this.sample();
    const now = Math.floor(this.clock.now() / MINUTE_MS) * MINUTE_MS;
    const current = this.totals();
    const byMinute = new Map<number, MinuteFigures>();
    this.marks.forEach((mark, i) => {
      const next = this.marks[i + 1]?.totals ?? current;
      byMinute.set(mark.minute, figures(mark.minute, mark.totals, next));
    });
    const out: MinuteFigures[] = [];
    for (let m = now - (minutes - 1) * MINUTE_MS; m <= now; m += MINUTE_MS)
      out.push(byMinute.get(m) ?? figures(m, current, current));
    return out;
  }

  top(n: number): { usage: HeavyHitter[]; denials: HeavyHitter[] } {
    return { usage: this.usage.top(n), denials: this.denials.top(n) };
  }
}

function figures(minute: number, from: Totals, to: Totals): MinuteFigures {
  const d = (k: keyof Totals) => to[k] - from[k];
  const decisions = d("decisions");
  const perRequest = (x: number) => (decisions > 0 ? Math.round((x / decisions) * 1000) / 1000 : 0);
  const count = d("latencyCount");
  return {
    minute,
    allowed: d("allowed"),
    denied: d("denied"),
    shadowDenied: d("shadowDenied"),
    denyBlocks: d("denyBlocks"),
    storeCallsPerRequest: perRequest(d("storeCalls")),
    storeCommandsPerRequest: perRequest(d("storeCommands")),
    storeLatencyMs: count > 0 ? Math.round((d("latencySum") / count) * 1e6) / 1e3 : 0,
  };
}
