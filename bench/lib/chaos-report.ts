// Renders the outage drill's results as markdown (docs/chaos.md): setup, then per scenario the timeline, recovery,
// answers and latency per tier and phase, admitted-vs-recorded per window, over-admission against its bound, checks.
import {
  type Check,
  PHASES,
  type PhaseStats,
  type ScenarioFigures,
  type ScenarioTimes,
} from "./chaos-analysis.ts";
import type { TenantLoad } from "./chaos-load.ts";
import { TIERS } from "./chaos-rig.ts";

export interface ScenarioResult {
  id: string;
  title: string;
  /** What the fault does and what the data looks like after it. */
  notes: string;
  times: ScenarioTimes;
  load: { scheduled: number; sent: number; skipped: number };
  figures: ScenarioFigures;
  drain: number[];
  checks: Check[];
}

export interface ChaosResults {
  startedAt: string;
  wallMs: number;
  machine: string;
  setup: {
    gateways: number;
    clients: number;
    limit: number;
    degradedShare: number;
    storeTimeoutMs: number;
    probeIntervalMs: number;
    tenants: TenantLoad[];
    timeline: { beforeMs: number; faultMs: number; afterMs: number };
  };
  scenarios: ScenarioResult[];
}

const s1 = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);
const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}` : "—");
const clock = (at: number) => new Date(at).toISOString().slice(11, 23);

function timeline(r: ScenarioResult): string[] {
  const t = r.times;
  return [
    `| event | at (UTC) | |`,
    `|---|---|---|`,
    `| load starts | ${clock(t.start)} | |`,
    `| fault injected | ${clock(t.faultAt)} | action took ${t.faultDone - t.faultAt} ms |`,
    `| fault cleared | ${clock(t.clearAt)} | store answering again at ${clock(t.clearedAt)} (+${t.clearedAt - t.clearAt} ms) |`,
    `| load ends | ${clock(t.end)} | ${r.load.sent} of ${r.load.scheduled} scheduled requests sent${
      r.load.skipped > 0 ? `, ${r.load.skipped} skipped (the clients were over 1 s behind)` : ""
    } |`,
  ];
}

function recovery(r: ScenarioResult): string[] {
  const rows = r.figures.recovery.map(
    (x) =>
      `| ${x.instance} | ${s1(x.openedAfterMs)} | ${x.closedAfterMs === null ? "**still open**" : s1(x.closedAfterMs)} | ${
        x.lastFailureDecisionAfterMs === null ? "none after" : s1(x.lastFailureDecisionAfterMs)
      } |`,
  );
  return [
    "| gateway | breaker seen open (after injection) | breaker seen closed (after the store was back) | last failure-policy decision (after the store was back) |",
    "|---|---|---|---|",
    ...rows,
  ];
}

function answers(r: ScenarioResult): string[] {
  const rows: string[] = [];
  for (const tier of TIERS)
    for (const phase of PHASES) {
      const p = r.figures.phases[tier][phase];
      const k = p.kinds;
      const other = k["other-5xx"] + k.other + k["client-error"];
      rows.push(
        `| ${tier} | ${phase} | ${p.requests} | ${k.ok} | ${k.limit} | ${k.degraded} | ${k["designed-503"]} | ${other} | ${ms(p.p50)} | ${ms(p.p95)} | ${ms(p.p99)} | ${ms(p.max)} |`,
      );
    }
  return [
    "| tier | phase | requests | 2xx | 429 limit | 429 degraded | 503 designed | other 5xx / errors | p50 ms | p95 ms | p99 ms | max ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
}

function books(r: ScenarioResult): string[] {
  const rows = r.figures.books.map(
    (b) =>
      `| ${b.tier} | ${b.windows} | ${b.admitted} | ${b.recorded} | ${b.exact} of ${b.windows} | ${b.missing} | ${
        b.stranded
      } | ${b.overTotal} | ${b.overMax} | ${b.bound === null ? "unbounded" : b.bound} |`,
  );
  return [
    "| tier | windows | admitted 2xx | Redis recorded | windows exact | lost (admitted, not counted) | stranded (counted, not admitted) | over the limit, sum | worst window | allowed per window |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
}

/** What the books show, in words: stranded units and fail-closed. */
function bookNotes(r: ScenarioResult): string[] {
  const out: string[] = [];
  const stranded = r.figures.books.filter((b) => b.stranded > 0);
  if (stranded.length > 0)
    out.push(
      `Redis counts units no request got (${stranded.map((b) => `${b.tier} ${b.stranded}`).join(", ")}), with ` +
        `${r.figures.storeErrors.acquire ?? 0} failed acquire and ${r.figures.storeErrors.flush ?? 0} failed flush ` +
        "calls in this scenario: allowance the store granted to calls the gateway had given up on. The store " +
        "applied them anyway, and the Upstash client aborts its HTTP request at STORE_TIMEOUT_MS, the moment the " +
        "limiter stops waiting, so the late answer that would let the gateway return the grant is never read. " +
        "Those units count as used until their window ends: under-admission, never over-admission.",
    );
  const closed = r.figures.books.find((b) => b.tier === "closed");
  if (closed)
    out.push(
      `Fail-closed: ${closed.admitted} admitted, ${closed.recorded} recorded, worst window ${closed.overMax} over ` +
        "the limit; while the store was away its tenants got the designed 503 except for allowance their gateway " +
        "already held.",
    );
  return out;
}

function windows(r: ScenarioResult): string[] {
  const rows = r.figures.windows.map((w) => {
    const diff = w.recorded - w.admitted;
    const bound = w.bound === null ? "unbounded" : String(w.bound);
    const beyond = w.bound !== null && w.over > w.bound ? " **beyond**" : "";
    return `| ${w.tier} | ${w.tenant} | ${clock(w.windowStart).slice(0, 5)} | ${w.admitted} | ${w.recorded} | ${
      diff === 0 ? "=" : diff > 0 ? `+${diff}` : String(diff)
    } | ${w.over} | ${bound}${beyond} |`;
  });
  return [
    "| tier | tenant | minute (UTC) | admitted 2xx | Redis recorded | recorded − admitted | over the limit | allowed over |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
}

function scenario(r: ScenarioResult): string[] {
  const f = r.figures;
  const unexpected = Object.entries(f.unexpected);
  const decisions = Object.entries(f.decisions)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const calls = Object.entries(f.storeCalls)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n} (${f.storeErrors[k] ?? 0})`)
    .join(", ");
  return [
    `## (${r.id}) ${r.title}`,
    "",
    r.notes,
    "",
    ...timeline(r),
    "",
    "**Recovery** (gauge `quotagate_store_breaker_open` and the decision counters on `/admin/metrics`, polled every 250 ms):",
    "",
    ...recovery(r),
    "",
    `Over the scenario on both gateways: decisions by reason: ${decisions || "none"}; store calls (errors) by`,
    `operation: ${calls || "none"}.`,
    "",
    "**Answers and latency** per tier, by the phase the request was sent in (during = from injection until the",
    "store answered again):",
    "",
    ...answers(r),
    "",
    unexpected.length === 0
      ? "No 5xx other than the designed 503, no other answers, no client errors."
      : `Unexpected answers: ${unexpected.map(([k, n]) => `${k} × ${n}`).join("; ")}.`,
    "",
    `**Admitted vs recorded** after the drain (POST /admin/quota/cache/clear on both gateways, answered ${r.drain.join(
      ", ",
    )}), per tier:`,
    "",
    ...books(r),
    "",
    ...bookNotes(r).flatMap((n) => [n, ""]),
    `Per (tenant, minute)${f.unattributed > 0 ? `; ${f.unattributed} 2xx attributed by send time` : ""}:`,
    "",
    ...windows(r),
    "",
    "**Checks:**",
    "",
    ...r.checks.map((c) => `- ${c.ok ? "pass" : "**FAIL**"}: ${c.what}`),
    "",
  ];
}

/** One line per scenario and tier: the figures a reader wants first. */
function summary(res: ChaosResults): string[] {
  const rows: string[] = [];
  for (const r of res.scenarios) {
    const f = r.figures;
    const closedAfter = f.recovery.map((x) => s1(x.closedAfterMs)).join(" / ");
    for (const b of f.books) {
      const ph = f.phases[b.tier];
      const count = (k: (p: PhaseStats) => number) => PHASES.reduce((n, p) => n + k(ph[p]), 0);
      const designed = count((p) => p.kinds["designed-503"]);
      const other = count((p) => p.kinds["other-5xx"] + p.kinds.other + p.kinds["client-error"]);
      const p99 = `${ms(ph.before.p99)} / ${ms(ph.during.p99)} / ${ms(ph.after.p99)}`;
      const over = `${b.overMax} (${b.bound === null ? "unbounded" : `≤ ${b.bound}`})`;
      rows.push(
        `| (${r.id}) | ${b.tier} | ${designed} | ${other} | ${p99} | ${closedAfter} | ${b.admitted} / ${b.recorded} | ${b.missing} / ${b.stranded} | ${over} |`,
      );
    }
  }
  return [
    "| scenario | tier | 503 designed | other 5xx / errors | p99 ms before / during / after | breaker closed after the store was back (gateway 0 / 1) | admitted / recorded | lost / stranded | worst window over the limit (allowed) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
}

export function renderChaos(res: ChaosResults): string {
  const s = res.setup;
  const rates = s.tenants
    .filter((t) => t.tenant.startsWith(`${res.scenarios[0]?.id ?? "a"}-`))
    .map((t) => `${t.tenant.replace(/^[a-z]-/, "")} ${t.rate}/s`)
    .join(", ");
  return [
    "# Outage drill",
    "",
    `\`npm run chaos\`, run ${res.startedAt} on ${res.machine}; ${Math.round(res.wallMs / 1000)} s in all.`,
    "",
    "## Setup",
    "",
    `- A private redis-server (append-only file, fsync on every write, so a SIGKILL loses nothing it answered),`,
    "  tools/upstash-local in front of it and the demo origin (in a worker thread of the drill), and two gateways: the real worker",
    "  bundle in two workerd instances (Miniflare), one isolate each, on the Upstash store.",
    `- Policy: three tiers with the same limit, ${s.limit} requests per minute: \`open\` (failure: open), \`closed\``,
    `  (failure: closed), \`degraded\` (failure: degraded, degradedShare ${s.degradedShare}). STORE_TIMEOUT_MS ${s.storeTimeoutMs},`,
    `  STORE_PROBE_INTERVAL_MS ${s.probeIntervalMs} (the defaults).`,
    `- Load: ${s.clients} keep-alive clients send a fixed schedule, each tenant's requests evenly spaced and alternating`,
    `  between the gateways; per tier three tenants (${rates}), new tenants for every scenario.`,
    `- Each scenario: ${s.timeline.beforeMs / 1000} s of load, the fault for ${s.timeline.faultMs / 1000} s, then ${
      s.timeline.afterMs / 1000
    } s of load. The fault starts 10 s`,
    "  before a minute boundary, so it covers the end of one window (partly used) and the start of the next.",
    "- An admitted request is attributed to the minute the gateway counted it in, read from its RateLimit header",
    "  (`t` pins the window end between send and receive), not from when it was sent.",
    "- Over-admission per window = admitted − limit. What the design allows: fail-open, unbounded while the store",
    `  is away; degraded, gateways × max(1, ⌊limit × share⌋) = ${s.gateways} × ${Math.max(
      1,
      Math.floor(s.limit * s.degradedShare),
    )}; fail-closed, none.`,
    "",
    "## Summary",
    "",
    ...summary(res),
    "",
    ...res.scenarios.flatMap((r) =>
      r.checks.filter((c) => !c.ok).map((c) => `- (${r.id}) **FAIL**: ${c.what}`),
    ),
    "",
    ...res.scenarios.flatMap(scenario),
  ].join("\n");
}
