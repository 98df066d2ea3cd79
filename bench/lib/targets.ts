// The report's "Targets" section: per (workload, isolates) row, PASS or MISS against each target, computed from
// the figures only; plus the checks that would make a run's figures untrustworthy.
import type { BenchResults, ReplayRow } from "./results.ts";
import type { VariantName } from "./variants.ts";
import type { WorkloadName } from "./workloads.ts";

/** The targets, as the report states them. */
export const TARGETS = {
  shortfallShare: 0.01,
  goalShare: 0.5,
  commandsPerExchange: 3,
  farBelowCommandsPerRequest: 0.05,
  farBelowIsolates: 64,
  hotCommandsPerDenial: 0.01,
  liveRelativeThroughput: 0.95,
} as const;

interface Cell {
  ok: boolean | null;
  text: string;
}

const NA: Cell = { ok: null, text: "—" };
/** Three significant digits, at least three decimals (hot's figures are in the ten-thousandths). */
const n3 = (x: number) => (x >= 0.1 || x === 0 ? x.toFixed(3) : x.toPrecision(3));
const n4 = (x: number) => x.toFixed(4);
const int = (x: number) => Math.round(x).toLocaleString("en-US");
const show = (c: Cell) => (c.ok === null ? c.text : `${c.ok ? "PASS" : "**MISS**"} ${c.text}`);

function rowOf(r: BenchResults, w: WorkloadName, n: number, v: VariantName): ReplayRow | undefined {
  return r.replay.find((x) => x.workload === w && x.isolates === n && x.variant === v);
}

/** Strict's Redis commands per request against the cheapest of the given variants at the same N (scaled). */
function cheaper(r: BenchResults, s: ReplayRow, others: VariantName[], share: number): Cell {
  const rivals = others
    .map((v) => rowOf(r, s.workload, s.isolates, v))
    .filter((x): x is ReplayRow => x !== undefined);
  if (rivals.length === 0) return NA;
  const cheapest = rivals.reduce((a, b) => (b.redisCommandsPerRequest < a.redisCommandsPerRequest ? b : a));
  const bound = cheapest.redisCommandsPerRequest * share;
  const ok = s.redisCommandsPerRequest <= bound;
  return { ok, text: `${n3(s.redisCommandsPerRequest)} ${ok ? "≤" : ">"} ${n3(bound)}` };
}

function cellsOf(r: BenchResults, s: ReplayRow): Cell[] {
  const a = s.accuracy;
  const over: Cell = { ok: a.overAdmitted === 0, text: int(a.overAdmitted) };
  const share = a.shortfall / Math.max(1, a.admitted);
  const shortfall: Cell = { ok: share <= TARGETS.shortfallShare, text: `${(100 * share).toFixed(2)}%` };
  const dearer = cheaper(r, s, ["naive", "upstash-ratelimit-fixed"], 1);
  const goal = cheaper(r, s, ["naive", "upstash-ratelimit-fixed", "seed-sync"], TARGETS.goalShare);
  const perExch = s.exchange?.commandsPerAcquire;
  const exch: Cell =
    perExch === null || perExch === undefined
      ? NA
      : { ok: perExch <= TARGETS.commandsPerExchange, text: perExch.toFixed(2) };
  const far: Cell =
    s.workload === "far-below" && s.isolates === TARGETS.farBelowIsolates
      ? {
          ok: s.redisCommandsPerRequest <= TARGETS.farBelowCommandsPerRequest,
          text: n4(s.redisCommandsPerRequest),
        }
      : NA;
  const perDenial = s.exchange?.nonGrantingCommandsPerDenial;
  const hot: Cell =
    s.workload === "hot" && perDenial !== null && perDenial !== undefined
      ? {
          ok: perDenial <= TARGETS.hotCommandsPerDenial,
          text: `${n4(perDenial)} (refused acquires alone ${n4(s.exchange!.refusedCommandsPerDenial ?? 0)})`,
        }
      : NA;
  return [over, shortfall, dearer, goal, exch, far, hot];
}

const HEAD = [
  "workload",
  "N",
  "strict over-admitted = 0",
  `shortfall ≤ ${TARGETS.shortfallShare * 100}% of admitted`,
  "never dearer: cmds/req ≤ min(naive, rl-fixed)",
  `goal: cmds/req ≤ ${TARGETS.goalShare} x min(naive, rl-fixed, seed-sync)`,
  `cmds/exchange ≤ ${TARGETS.commandsPerExchange}`,
  `far-below N=${TARGETS.farBelowIsolates}: cmds/req ≤ ${TARGETS.farBelowCommandsPerRequest}`,
  `hot: cmds per denied request ≤ ${TARGETS.hotCommandsPerDenial}`,
];

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Per-row verdicts on the strict rows, with a tally per target. */
function rowTargets(r: BenchResults): string {
  const strict = r.replay.filter((x) => x.variant === "quotagate-strict");
  if (strict.length === 0) return "No quotagate-strict rows: no per-row targets.";
  const grid = strict.map((s) => cellsOf(r, s));
  const tally = HEAD.slice(2).map((h, i) => {
    const judged = grid.map((c) => c[i]!).filter((c) => c.ok !== null);
    const passed = judged.filter((c) => c.ok).length;
    return judged.length === 0
      ? `- ${h}: not judged (no row it applies to)`
      : `- ${passed === judged.length ? "PASS" : "**MISS**"} ${h}: ${passed} of ${judged.length} rows pass`;
  });
  const rows = strict.map((s, i) => [s.workload, String(s.isolates), ...grid[i]!.map(show)]);
  return `${tally.join("\n")}\n\n${table(HEAD, rows)}`;
}

/** Live throughput with one instance against the plain proxy. */
function liveTargets(r: BenchResults): string[] {
  if (!r.live) return [];
  return r.live.rows
    .filter((x) => x.variant !== "plain-proxy")
    .map((x) => {
      const v = `live ${x.variant} x${x.instances}: ${x.relativeThroughput.toFixed(2)}x the plain proxy's throughput`;
      if (x.instances !== 1) return `- (no target at ${x.instances} instances) ${v}`;
      const ok = x.relativeThroughput >= TARGETS.liveRelativeThroughput;
      return `- ${ok ? "PASS" : "**MISS**"} ${v} (target ≥ ${TARGETS.liveRelativeThroughput}x with 1 instance)`;
    });
}

/** Conditions under which a run's figures cannot be trusted. */
function checks(r: BenchResults): string[] {
  const out: string[] = [];
  const settled = r.replay.filter((x) => x.recordedMinusAdmitted !== null);
  if (settled.length > 0) {
    const off = settled.filter((x) => Object.values(x.recordedMinusAdmitted!).some((v) => v !== 0));
    out.push(
      off.length === 0
        ? "- PASS after the final flush, Redis holds exactly the admitted units (quotagate strict and async, every run)"
        : `- **MISS** recorded usage differs from admitted units in ${off.map((x) => `${x.workload} N=${x.isolates} ${x.variant} ${JSON.stringify(x.recordedMinusAdmitted)}`).join(", ")}`,
    );
  }
  const loose = r.replay.filter((x) => x.exchange && x.exchange.unattributed !== 0);
  if (loose.length > 0)
    out.push(
      `- **MISS** Redis commands not attributed to any round trip in ${loose.map((x) => `${x.workload} N=${x.isolates} ${x.variant} (${int(x.exchange!.unattributed)})`).join(", ")}`,
    );
  const failOpen = r.replay.filter(
    (x) => (x.counters.fail_open ?? 0) + (x.counters.timeouts ?? 0) + (x.counters.store_errors ?? 0) > 0,
  );
  if (failOpen.length > 0)
    out.push(
      `- **MISS** store errors, timeouts or fail-open decisions distort ${failOpen.map((x) => `${x.workload} N=${x.isolates} ${x.variant}`).join(", ")}`,
    );
  const slow = r.replay.filter(
    (x) => x.variant.startsWith("upstash-ratelimit") && x.maxWallPerSimMinuteMs >= 55_000,
  );
  if (slow.length > 0)
    out.push(
      `- **MISS** @upstash/ratelimit keys may have expired mid-window (a simulated minute took >= 55 s of wall time) in ${slow.map((x) => `${x.workload} N=${x.isolates} ${x.variant}`).join(", ")}`,
    );
  return out;
}

export function renderTargets(r: BenchResults): string {
  const parts = ["## Targets"];
  if (r.replay.length > 0)
    parts.push(
      `Per (workload, N), for quotagate-strict. *cmds/req* = Redis commands per request as billed, final flush included. *cmds/exchange* = Redis commands of the round trips that carried acquires (EVALSHA and the script's inner commands) / acquire calls. *Cmds per denied request* (hot) = every command except those of acquires that granted (so flushes are charged to denials too: an upper bound) / denied requests; the commands of refused acquires alone are shown in brackets. The comparisons are with the other variants at the same N (naive's figures do not depend on N).\n\n${rowTargets(r)}`,
    );
  const live = liveTargets(r);
  if (live.length > 0) parts.push(`Live:\n\n${live.join("\n")}`);
  const c = checks(r);
  if (c.length > 0) parts.push(`Checks (figures to distrust when one fails):\n\n${c.join("\n")}`);
  return parts.join("\n\n");
}
