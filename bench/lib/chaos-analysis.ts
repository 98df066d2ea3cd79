// The outage drill's figures from its raw record: latency and answers per tier and phase, recovery per gateway from
// the breaker gauge and the failure-policy decision counters, and admitted-vs-recorded and over-admission per
// (tenant, minute) window, with the checks each scenario must pass.
import type { Kind, Reading, Sample } from "./chaos-load.ts";
import { TIERS, type Tier } from "./chaos-rig.ts";

const MINUTE = 60_000;
export const PHASES = ["before", "during", "after"] as const;
export type Phase = (typeof PHASES)[number];
const KINDS: Kind[] = ["ok", "limit", "degraded", "designed-503", "other-5xx", "other", "client-error"];
/** Decision reasons that mean "the store was not asked; the failure policy decided". */
const FAILURE_REASONS = ["fail_open", "degraded", "store_unavailable"];

export interface ScenarioTimes {
  /** Load starts and ends (epoch ms). */
  start: number;
  end: number;
  /** The fault was injected (its action started / returned). */
  faultAt: number;
  faultDone: number;
  /** The fault was cleared (its action started / returned: the store answers again from `clearedAt`). */
  clearAt: number;
  clearedAt: number;
}

export interface PhaseStats {
  requests: number;
  kinds: Record<Kind, number>;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface WindowRow {
  tenant: string;
  tier: Tier;
  windowStart: number;
  admitted: number;
  recorded: number;
  over: number;
  /** Over-admission the design allows in this tier's window: null = unbounded (fail-open). */
  bound: number | null;
}

/** One tier's windows summed: what was admitted, what Redis counts, and how far over the limit. */
export interface TierBook {
  tier: Tier;
  windows: number;
  admitted: number;
  recorded: number;
  /** Windows where Redis counts exactly what was admitted. */
  exact: number;
  /** Admitted units Redis does not count (lost counts), summed over windows. */
  missing: number;
  /** Units Redis counts that no request got (stranded grants), summed over windows. */
  stranded: number;
  overTotal: number;
  overMax: number;
  bound: number | null;
}

export interface RecoveryRow {
  instance: number;
  /** Fault injected -> first poll that saw the breaker open (null: never seen open). */
  openedAfterMs: number | null;
  /** Store answering again -> first poll that saw the breaker closed (null: still open when the load ended). */
  closedAfterMs: number | null;
  /** Store answering again -> the last poll that saw the failure-policy decision counters grow (null: none after). */
  lastFailureDecisionAfterMs: number | null;
}

export interface Check {
  ok: boolean;
  what: string;
}

export interface ScenarioFigures {
  phases: Record<Tier, Record<Phase, PhaseStats>>;
  /** Anything other than ok/limit/degraded/designed-503, by detail (status and problem type or error). */
  unexpected: Record<string, number>;
  windows: WindowRow[];
  books: TierBook[];
  /** 2xx whose window the RateLimit header did not pin down (attributed by send time instead). */
  unattributed: number;
  recovery: RecoveryRow[];
  /** Over the scenario on both gateways (counter deltas): decisions by reason, store calls and errors by operation. */
  decisions: Record<string, number>;
  storeCalls: Record<string, number>;
  storeErrors: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function phaseOf(at: number, t: ScenarioTimes): Phase {
  return at < t.faultAt ? "before" : at < t.clearedAt ? "during" : "after";
}

function phaseStats(xs: Sample[]): PhaseStats {
  const kinds = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (const s of xs) kinds[s.kind]++;
  const ms = xs.map((s) => s.ms).sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    requests: xs.length,
    kinds,
    p50: r(percentile(ms, 50)),
    p95: r(percentile(ms, 95)),
    p99: r(percentile(ms, 99)),
    max: r(ms.at(-1) ?? Number.NaN),
  };
}

function recoveryOf(readings: Reading[], instance: number, t: ScenarioTimes): RecoveryRow {
  const rs = readings.filter((r) => r.instance === instance).sort((a, b) => a.at - b.at);
  const opened = rs.find((r) => r.at >= t.faultAt && r.breakerOpen);
  const closed = rs.find((r) => r.at >= t.clearedAt && !r.breakerOpen);
  const failures = (r: Reading) => FAILURE_REASONS.reduce((n, k) => n + (r.decisions[k] ?? 0), 0);
  let lastGrowth: number | null = null;
  for (let i = 1; i < rs.length; i++)
    if (rs[i]!.at >= t.clearedAt && failures(rs[i]!) > failures(rs[i - 1]!)) lastGrowth = rs[i]!.at;
  return {
    instance,
    openedAfterMs: opened ? opened.at - t.faultAt : null,
    closedAfterMs: closed ? closed.at - t.clearedAt : null,
    lastFailureDecisionAfterMs: lastGrowth === null ? null : lastGrowth - t.clearedAt,
  };
}

type Counters = "decisions" | "storeCalls" | "storeErrors";

/** What a family of counters grew by over the readings, on all gateways together. */
function deltas(readings: Reading[], instances: number, family: Counters): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < instances; i++) {
    const rs = readings.filter((r) => r.instance === i).sort((a, b) => a.at - b.at);
    const first = rs[0];
    const last = rs.at(-1);
    if (!first || !last) continue;
    for (const [k, v] of Object.entries(last[family])) out[k] = (out[k] ?? 0) + v - (first[family][k] ?? 0);
  }
  return out;
}

/** Over-admission each tier's design allows per window: degraded, instances x its per-isolate cap; closed, none. */
export function boundOf(tier: Tier, o: { instances: number; limit: number; degradedShare: number }) {
  if (tier === "open") return null;
  if (tier === "closed") return 0;
  return o.instances * Math.max(1, Math.floor(o.limit * o.degradedShare));
}

function bookOf(tier: Tier, ws: WindowRow[], bound: number | null): TierBook {
  const sum = (f: (w: WindowRow) => number) => ws.reduce((n, w) => n + f(w), 0);
  return {
    tier,
    windows: ws.length,
    admitted: sum((w) => w.admitted),
    recorded: sum((w) => w.recorded),
    exact: ws.filter((w) => w.admitted === w.recorded).length,
    missing: sum((w) => Math.max(0, w.admitted - w.recorded)),
    stranded: sum((w) => Math.max(0, w.recorded - w.admitted)),
    overTotal: sum((w) => w.over),
    overMax: Math.max(0, ...ws.map((w) => w.over)),
    bound,
  };
}

export async function figures(o: {
  samples: Sample[];
  readings: Reading[];
  times: ScenarioTimes;
  tenants: Array<{ tenant: string; tier: Tier }>;
  instances: number;
  limit: number;
  degradedShare: number;
  recorded: (tenant: string, windowStart: number) => Promise<number>;
}): Promise<ScenarioFigures> {
  const { samples, times } = o;
  const phases = {} as Record<Tier, Record<Phase, PhaseStats>>;
  for (const tier of TIERS) {
    const mine = samples.filter((s) => s.tier === tier);
    phases[tier] = {
      before: phaseStats(mine.filter((s) => phaseOf(s.sentAt, times) === "before")),
      during: phaseStats(mine.filter((s) => phaseOf(s.sentAt, times) === "during")),
      after: phaseStats(mine.filter((s) => phaseOf(s.sentAt, times) === "after")),
    };
  }
  const unexpected: Record<string, number> = {};
  for (const s of samples)
    if (s.kind === "other-5xx" || s.kind === "other" || s.kind === "client-error") {
      const k = `${s.kind}: ${s.detail ?? s.status}`;
      unexpected[k] = (unexpected[k] ?? 0) + 1;
    }
  const admitted = new Map<string, number>();
  let unattributed = 0;
  for (const s of samples) {
    if (s.kind !== "ok") continue;
    if (s.windowStart === null) unattributed++;
    const w = s.windowStart ?? Math.floor(s.sentAt / MINUTE) * MINUTE;
    const k = `${s.tenant}\u0000${w}`;
    admitted.set(k, (admitted.get(k) ?? 0) + 1);
  }
  const windows: WindowRow[] = [];
  const first = Math.floor(times.start / MINUTE) * MINUTE;
  for (const { tenant, tier } of o.tenants)
    for (let w = first; w < times.end; w += MINUTE) {
      const a = admitted.get(`${tenant}\u0000${w}`) ?? 0;
      windows.push({
        tenant,
        tier,
        windowStart: w,
        admitted: a,
        recorded: await o.recorded(tenant, w),
        over: Math.max(0, a - o.limit),
        bound: boundOf(tier, o),
      });
    }
  return {
    phases,
    unexpected,
    windows,
    books: TIERS.map((tier) =>
      bookOf(
        tier,
        windows.filter((w) => w.tier === tier),
        boundOf(tier, o),
      ),
    ),
    unattributed,
    recovery: Array.from({ length: o.instances }, (_, i) => recoveryOf(o.readings, i, times)),
    decisions: deltas(o.readings, o.instances, "decisions"),
    storeCalls: deltas(o.readings, o.instances, "storeCalls"),
    storeErrors: deltas(o.readings, o.instances, "storeErrors"),
  };
}

/** What a scenario must show: only designed answers, exact books for open and degraded, bounds kept, recovery. */
export function checks(f: ScenarioFigures, drain: number[]): Check[] {
  const out: Check[] = [];
  const unexpected = Object.values(f.unexpected).reduce((a, b) => a + b, 0);
  out.push({
    ok: unexpected === 0,
    what: `no 5xx other than the designed 503, no other answers, no client errors (${unexpected} seen)`,
  });
  for (const b of f.books)
    out.push({
      ok: b.missing === 0,
      what: `${b.tier}: no lost counts, every admitted 2xx is in Redis after the drain (${b.missing} missing)`,
    });
  for (const b of f.books.filter((x) => x.tier !== "closed"))
    out.push({
      ok: b.exact === b.windows,
      what: `${b.tier}: Redis counts exactly the admitted 2xx in every (tenant, window) (${
        b.windows - b.exact
      } of ${b.windows} differ, ${b.stranded} units counted that no request got)`,
    });
  for (const b of f.books.filter((x) => x.bound !== null))
    out.push({
      ok: b.overMax <= (b.bound ?? 0),
      what: `${b.tier}: over-admission per window at most ${b.bound} (worst ${b.overMax})`,
    });
  for (const r of f.recovery)
    out.push({
      ok: r.openedAfterMs !== null && r.closedAfterMs !== null,
      what: `gateway ${r.instance}: breaker ${r.openedAfterMs === null ? "never seen open" : "opened"} and ${
        r.closedAfterMs === null ? "still open at the end" : "closed again after the store was back"
      }`,
    });
  out.push({ ok: drain.every((s) => s === 200), what: `drain answered ${drain.join(", ")}` });
  return out;
}
