// Renders benchmark results as markdown: the results file (bench/results/<timestamp>.md) and docs/benchmarks.md
// (method + the latest results). Every verdict is computed from the figures; nothing here is hand-written per run.
import type { ColdStartResult } from "./cold-start.ts";
import type { LiveResult, LiveRow } from "./live.ts";
import { METHOD } from "./report-method.ts";
import type { BenchResults, ReplayRow } from "./results.ts";
import { renderTargets } from "./targets.ts";
import type { VariantName } from "./variants.ts";
import type { WorkloadName } from "./workloads.ts";

const SHORT: Record<VariantName, string> = {
  naive: "naive",
  "seed-sync": "seed-sync",
  "upstash-ratelimit-fixed": "rl-fixed",
  "upstash-ratelimit-sliding": "rl-sliding",
  "quotagate-strict": "strict",
  "quotagate-async": "async",
};

const int = (n: number) => (Number.isNaN(n) ? "—" : Math.round(n).toLocaleString("en-US"));
const num = (n: number | null | undefined, digits = 3) =>
  n === null || n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits);
const pct = (n: number, digits = 1) => `${(100 * n).toFixed(digits)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function find(r: BenchResults, w: WorkloadName, n: number, v: VariantName): ReplayRow | undefined {
  return r.replay.find((x) => x.workload === w && x.isolates === n && x.variant === v);
}

/** Workload x isolate pairs that were run, in run order. */
function cells(r: BenchResults): Array<[WorkloadName, number]> {
  const out: Array<[WorkloadName, number]> = [];
  for (const row of r.replay)
    if (!out.some(([w, n]) => w === row.workload && n === row.isolates))
      out.push([row.workload, row.isolates]);
  return out;
}

/** Strict's exchange figures next to the floor: exchanges/req (x floor), commands per exchange, flush commands. */
function strictExchange(x: ReplayRow | undefined): string[] {
  const e = x?.exchange;
  if (!x || x.exchangesPerRequest === null) return ["—", "—", "—"];
  return [
    `${num(x.exchangesPerRequest, 4)} (${num(x.exchangesPerRequest / x.floorPerRequest, 2)}x)`,
    e?.commandsPerAcquire === null || e?.commandsPerAcquire === undefined
      ? "—"
      : num(e.commandsPerAcquire, 2),
    e ? `${num(e.flushCommandsPerRequest, 4)} (${int(e.flushes)})` : "—",
  ];
}

function headline(r: BenchResults): string {
  const cmds = (w: WorkloadName, n: number, v: VariantName) =>
    num(find(r, w, n, v)?.redisCommandsPerRequest, 3);
  const rows = cells(r).map(([w, n]) => {
    const any = r.replay.find((x) => x.workload === w && x.isolates === n)!;
    const strict = find(r, w, n, "quotagate-strict");
    const async = find(r, w, n, "quotagate-async");
    const seed = find(r, w, n, "seed-sync");
    return [
      w,
      String(n),
      int(any.requests),
      num(any.floorPerRequest, 4),
      ...strictExchange(strict),
      cmds(w, n, "quotagate-strict"),
      cmds(w, n, "seed-sync"),
      cmds(w, n, "quotagate-async"),
      cmds(w, n, "naive"),
      cmds(w, n, "upstash-ratelimit-fixed"),
      cmds(w, n, "upstash-ratelimit-sliding"),
      strict
        ? `${int(strict.accuracy.overAdmitted)} / ${int(strict.accuracy.underAdmitted)} / ${int(strict.accuracy.shortfall ?? Number.NaN)}`
        : "—",
      async ? int(async.accuracy.overAdmitted) : "—",
      seed ? int(seed.accuracy.overAdmitted) : "—",
    ];
  });
  return table(
    [
      "workload",
      "N",
      "requests",
      "floor/req",
      "strict exch/req (x floor)",
      "strict cmds/exch",
      "strict flush cmds/req (flushes)",
      "strict cmds/req",
      "seed-sync cmds/req",
      "async cmds/req",
      "naive cmds/req",
      "rl-fixed cmds/req",
      "rl-sliding cmds/req",
      "strict over / denied with room / shortfall",
      "async over",
      "seed-sync over",
    ],
    rows,
  );
}

function seedReference(r: BenchResults): string {
  const rows: string[][] = [
    ["per-request INCR (claimed by its authors)", "—", "2", "INCR x2 per request"],
    ["local count + 30 s sync (claimed by its authors)", "—", "0.067", "their estimate"],
    ["local count + 30 s sync (measured by its authors)", "—", "~0.033", "~24K ops/h over 733K req/h"],
  ];
  for (const w of ["seed-002-uniform", "seed-002-zipf"] as const) {
    for (const v of ["naive", "seed-sync", "quotagate-strict"] as const) {
      for (const row of r.replay.filter((x) => x.workload === w && x.variant === v)) {
        rows.push([
          `${v} on ${w}`,
          String(row.isolates),
          num(row.redisCommandsPerRequest, 4),
          `over-admitted ${int(row.accuracy.overAdmitted)}, denied with room ${int(row.accuracy.underAdmitted)}, shortfall ${int(row.accuracy.shortfall ?? Number.NaN)}${row.reusedFrom ? ` (measured at N=${row.reusedFrom})` : ""}`,
        ]);
      }
    }
  }
  return table(["source", "N", "Redis cmds/req", "note"], rows);
}

function workloadTable(r: BenchResults, w: WorkloadName): string {
  const rows = r.replay
    .filter((x) => x.workload === w)
    .map((x) => {
      const fp = x.footprint;
      return [
        String(x.isolates),
        SHORT[x.variant] + (x.reusedFrom ? ` (=N${x.reusedFrom})` : ""),
        num(x.redisCommandsPerRequest, 4),
        num(x.httpPerRequest, 4),
        num(x.requestPathRoundTripsPerRequest, 4),
        num(x.backgroundRoundTripsPerRequest, 4),
        pct(x.blockedRequestFraction),
        num(x.floorPerRequest, 4),
        ...strictExchange(x),
        int(x.accuracy.admitted),
        int(x.accuracy.overAdmitted) +
          (x.accuracy.overAdmitted > 0
            ? ` (${int(x.accuracy.overCells)} cells, worst ${num(x.accuracy.worstRatio, 2)}x)`
            : ""),
        int(x.accuracy.underAdmitted),
        int(x.accuracy.shortfall ?? Number.NaN),
        fp && fp.entries > 0
          ? `${num(fp.bytes / fp.entries, 0)} B / ${num(fp.entries / Math.max(1, fp.tenants), 1)}`
          : "—",
        `${secs(x.wallMs)}${x.cpuMs !== undefined && !x.reusedFrom ? ` / ${secs(x.cpuMs)}` : ""}`,
      ];
    });
  return table(
    [
      "N",
      "variant",
      "Redis cmds/req",
      "HTTP/req",
      "blocking RT/req",
      "background RT/req",
      "requests blocked",
      "floor/req",
      "exch/req (x floor)",
      "cmds/exch",
      "flush cmds/req (flushes)",
      "admitted",
      "over-admitted",
      "denied with room",
      "shortfall",
      "cache per tenant (entries x B/entry)",
      "wall / CPU",
    ],
    rows,
  );
}

function liveTable(live: LiveResult): string {
  const rows = live.rows.map((x: LiveRow) => [
    String(x.instances),
    x.variant,
    int(x.throughput),
    `${num(x.relativeThroughput, 2)}x`,
    x.sliceThroughputs.map(int).join(" / "),
    num(x.p50Ms, 1),
    num(x.p90Ms, 1),
    num(x.p99Ms, 1),
    int(x.requests),
    int(x.non2xx),
    int(x.errors),
    num(x.redisCommandsPerRequest, 4),
    num(x.upstashHttpPerRequest, 4),
    x.probeOk ? "yes" : "**no**",
  ]);
  return table(
    [
      "instances",
      "variant",
      "req/s",
      "vs plain",
      "req/s per slice",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "requests",
      "non-2xx",
      "errors",
      "Redis cmds/req",
      "Upstash HTTP/req",
      "headers ok",
    ],
    rows,
  );
}

/** The replay runs' CPU time, and what it means for the wall time on an idle machine with as many cores as jobs. */
function cpuLine(r: BenchResults): string {
  const own = r.replay.filter((x) => !x.reusedFrom && x.cpuMs !== undefined);
  if (own.length === 0) return "";
  const cpu = own.reduce((s, x) => s + x.cpuMs!, 0);
  const lanes = Math.max(1, Math.min(r.options.jobs, r.machine.cores));
  return `CPU time ${secs(cpu)} over ${own.length} runs (so at least ${secs(cpu / lanes)} of wall time with ${lanes} job(s), on an idle machine); `;
}

function about(r: BenchResults): string {
  const m = r.machine;
  const s = r.source;
  return [
    `- command: \`${r.command}\``,
    `- started ${r.startedAt}; wall time ${secs(r.wallMs)} (replay ${secs(r.replayWallMs)}${r.coldStart ? `, cold start ${secs(r.coldStart.wallMs)}` : ""}${r.live ? `, live ${secs(r.live.wallMs)}` : ""})`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.platform}; Node ${m.node}; redis-server ${m.redisServer}`,
    `- source: HEAD ${s.head}${s.dirty.length ? ` + uncommitted changes in ${s.dirty.join(", ")}` : ""} (src sha256 ${s.srcSha256})`,
    r.replay.length === 0
      ? "- replay: skipped"
      : `- replay: ${cpuLine(r)}${r.options.full ? "full durations" : `scale ${r.options.scale} of each workload's duration (each lasts at least its minimum)`}, tick ${r.options.tickMs} ms, seed ${r.options.seed}, isolates ${r.options.isolates ? r.options.isolates.join(", ") : r.workloads.map((w) => `${w.name} ${(w.isolates ?? []).join(", ")}`).join("; ")}, ${r.options.jobs} run(s) in parallel (per-run wall times include that contention)`,
  ].join("\n");
}

function workloadList(r: BenchResults): string {
  return r.workloads
    .map(
      (w) =>
        `- **${w.name}**: ${w.description}. Replayed: ${int(w.requests)} requests over ${num(w.simulatedMinutes, 1)} simulated minutes, ${int(w.tenants)} tenants; an exact limiter admits ${int(w.idealAdmitted)} (${pct(w.idealAdmitted / w.requests)}).`,
    )
    .join("\n");
}

function body(r: BenchResults): string {
  const parts: string[] = [];
  if (r.replay.length > 0) replayParts(r, parts);
  else parts.push(renderTargets(r));
  if (r.coldStart) parts.push(coldStartPart(r.coldStart));
  liveParts(r, parts);
  return parts.join("\n\n");
}

function replayParts(r: BenchResults, parts: string[]): void {
  parts.push(
    `## Headline\n\nRedis commands per request as Upstash bills them (scripts' inner commands included). "exch" = quotagate's acquire calls to the store (request path and prefetch), per request, and as a multiple of the floor; "cmds/exch" = Redis commands of the round trips that carried acquires / acquire calls; "flush cmds/req" = Redis commands of the background flush round trips (owed deltas and fleet stats) per request, with the number of flushes; "floor" = distinct (tenant, isolate, minute) triples that saw traffic, per request (an allowance cannot outlive its window). "over" = units admitted beyond a limit; "denied with room" = requests denied while the true global count of every window had room (under-admission); "shortfall" = units an exact limiter admits in a tenant-minute that this one did not (capacity lost; a denial made up for by a later admission in the same minute is not).\n\n${headline(r)}`,
  );
  parts.push(renderTargets(r));
  parts.push(`## Seed 002 for reference\n\n${seedReference(r)}`);
  parts.push(`## Workloads\n\n${workloadList(r)}`);
  for (const w of r.workloads) {
    parts.push(
      `## Replay: ${w.name}\n\n${workloadTable(r, w.name)}\n\nfloor: ${cells(r)
        .filter(([x]) => x === w.name)
        .map(
          ([, n]) =>
            `N=${n}: ${num(find(r, w.name, n, r.replay.find((x) => x.workload === w.name && x.isolates === n)!.variant)!.floorPerRequest, 4)}/req`,
        )
        .join(", ")}`,
    );
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function coldStartPart(c: ColdStartResult): string {
  const t = (
    label: string,
    q: ColdStartResult["quotagate"]["ready"],
    b: ColdStartResult["quotagate"]["ready"],
  ) => [
    label,
    num(q.medianMs, 0),
    `${num(q.minMs, 0)}–${num(q.maxMs, 0)}`,
    num(b.medianMs, 0),
    num(q.medianMs - b.medianMs, 0),
  ];
  return `## Cold start

Bundle (\`wrangler deploy --dry-run --outdir <tmp>\`, the modules the isolate loads): ${c.files.map((f) => `\`${f.name}\` ${int(f.bytes)} B`).join(", ")}; **${kb(c.rawBytes)} raw, ${kb(c.gzipBytes)} gzipped** (zlib level 9); wrangler: "${c.wranglerReport ?? "—"}". Source maps (uploaded, never loaded): ${kb(c.sourceMapBytes)}.

Start-up in workerd (Miniflare, loopback), ${c.runs} fresh instances each of the bundle (Upstash store configured, never reached) and of a worker that only answers "ok", alternating: time from \`new Miniflare(...)\` to \`ready\` (workerd up, bundle loaded and its top level run) and to the first answer of \`GET /health\`. Most of it is workerd's own start; the difference to the baseline is what the bundle adds.

${table(
  ["ms", "quotagate median", "quotagate min–max", "baseline median", "difference"],
  [
    t("to ready", c.quotagate.ready, c.baseline.ready),
    t("to first response", c.quotagate.firstResponse, c.baseline.firstResponse),
  ],
)}`;
}

function liveParts(r: BenchResults, parts: string[]): void {
  if (r.live) {
    parts.push(
      `## Live (workerd via Miniflare, HTTP, autocannon)\n\n${r.live.connections} connections spread round-robin over the instances; every variant's instances run side by side and are measured in ${r.live.slices} alternating slices (A B C D, D C B A, ...) of ${r.options.liveSeconds / r.live.slices} s after a 2 s warm-up each, so drift of the machine hits all variants alike; latency percentiles are per-slice values averaged by requests. GET through the worker to the demo origin, ${r.live.tenants} tenants rotated through X-Tenant-ID, limits far above the load (nothing is denied: this measures the cost of deciding). Everything (workerd, the local Upstash server, redis-server, the origin and autocannon) shares the same ${r.machine.cores} cores.\n\n${liveTable(r.live)}`,
    );
  }
}

export function renderResults(r: BenchResults): string {
  return `# quotagate benchmark ${r.startedAt}\n\n${about(r)}\n\n${body(r)}\n`;
}

export function renderDocs(r: BenchResults, resultsFile: string): string {
  return `# Benchmarks

quotagate against a naive per-request INCR limiter, a local-count-and-sync-every-30-s limiter and \`@upstash/ratelimit\`, on the same
traffic: Redis commands and round trips per request (and per quotagate exchange), over- and under-admission,
isolate memory, the bundle's size and cold start in workerd, and live HTTP throughput and latency. This file is rewritten by \`npm run bench\`; the latest run is below (full output:
\`${resultsFile}\`).

${METHOD}

# Latest results

${about(r)}

${body(r)}
`;
}
