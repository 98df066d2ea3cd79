// Renders benchmark results as markdown: the results file (bench/results/<timestamp>.md) and docs/benchmarks.md
// (method + the latest results). Every verdict is computed from the figures; nothing here is hand-written per run.
import type { LiveResult, LiveRow } from "./live.ts";
import type { Machine, SourceState } from "./machine.ts";
import type { Accuracy } from "./truth.ts";
import type { CacheFootprint, VariantName } from "./variants.ts";
import type { WorkloadName } from "./workloads.ts";

export interface ReplayRow {
  workload: WorkloadName;
  isolates: number;
  variant: VariantName;
  /** Set when an isolate-independent variant's figures were measured once, at this isolate count. */
  reusedFrom?: number;
  requests: number;
  wallMs: number;
  redisCommands: number;
  redisCommandsPerRequest: number;
  redisCommandstats: Record<string, number>;
  httpRequests: number;
  httpPerRequest: number;
  requestPathRoundTripsPerRequest: number;
  backgroundRoundTripsPerRequest: number;
  blockedRequestFraction: number;
  floorTriples: number;
  floorPerRequest: number;
  idealAdmitted: number;
  accuracy: Accuracy;
  footprint: CacheFootprint | null;
  counters: Record<string, number>;
  exchangesPerRequest: number | null;
  flushesPerRequest: number | null;
  maxWallPerSimMinuteMs: number;
  recordedMinusAdmitted: Record<string, number> | null;
  serverErrors: number;
  waitUntilErrors: number;
}

export interface BenchResults {
  command: string;
  startedAt: string;
  wallMs: number;
  replayWallMs: number;
  machine: Machine;
  source: SourceState;
  options: {
    workloads: WorkloadName[];
    isolates: number[];
    variants: VariantName[];
    scale: number;
    full: boolean;
    tickMs: number;
    seed: number;
    live: boolean;
    liveSeconds: number;
    liveInstances: number[];
    jobs: number;
  };
  workloads: Array<{
    name: WorkloadName;
    description: string;
    requests: number;
    tenants: number;
    simulatedMinutes: number;
    idealAdmitted: number;
  }>;
  replay: ReplayRow[];
  live: LiveResult | null;
}

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

function headline(r: BenchResults): string {
  const cmds = (w: WorkloadName, n: number, v: VariantName) =>
    num(find(r, w, n, v)?.redisCommandsPerRequest, 3);
  const rows = cells(r).map(([w, n]) => {
    const any = r.replay.find((x) => x.workload === w && x.isolates === n)!;
    const strict = find(r, w, n, "quotagate-strict");
    const async = find(r, w, n, "quotagate-async");
    const seed = find(r, w, n, "seed-sync");
    const exch = strict?.exchangesPerRequest;
    return [
      w,
      String(n),
      int(any.requests),
      num(any.floorPerRequest, 4),
      exch === undefined || exch === null ? "—" : `${num(exch, 4)} (${num(exch / any.floorPerRequest, 2)}x)`,
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

interface Verdict {
  ok: boolean;
  text: string;
}

function targets(r: BenchResults): Verdict[] {
  const out: Verdict[] = [];
  const strict = r.replay.filter((x) => x.variant === "quotagate-strict");
  if (strict.length > 0) {
    const over = strict.filter((x) => x.accuracy.overAdmitted > 0);
    out.push({
      ok: over.length === 0,
      text:
        over.length === 0
          ? `strict over-admission is 0 in all ${strict.length} (workload, N) runs`
          : `strict over-admitted in ${over.map((x) => `${x.workload} N=${x.isolates} (${int(x.accuracy.overAdmitted)} units)`).join(", ")}`,
    });
    const exch = strict.map((x) => ({ x, ratio: (x.exchangesPerRequest ?? Number.NaN) / x.floorPerRequest }));
    const missed = exch.filter((e) => !(e.ratio <= 1.5));
    out.push({
      ok: missed.length === 0,
      text:
        missed.length === 0
          ? `strict exchanges per request stay within 1.5x the floor in every run (worst ${num(Math.max(...exch.map((e) => e.ratio)), 2)}x)`
          : `strict exchanges per request exceed 1.5x the floor in ${missed.length} of ${exch.length} runs: ${missed.map((e) => `${e.x.workload} N=${e.x.isolates} ${num(e.ratio, 2)}x`).join(", ")}`,
    });
    const vsSeed = strict
      .map((x) => ({ x, seed: find(r, x.workload, x.isolates, "seed-sync") }))
      .filter((p) => p.seed !== undefined);
    if (vsSeed.length > 0) {
      const worse = vsSeed.filter((p) => !(p.x.redisCommandsPerRequest <= p.seed!.redisCommandsPerRequest));
      out.push({
        ok: worse.length === 0,
        text:
          worse.length === 0
            ? `strict spends fewer Redis commands per request than seed-sync at the same N in all ${vsSeed.length} runs`
            : `strict spends more Redis commands per request than seed-sync in ${worse.length} of ${vsSeed.length} runs: ${worse.map((p) => `${p.x.workload} N=${p.x.isolates} ${num(p.x.redisCommandsPerRequest, 3)} vs ${num(p.seed!.redisCommandsPerRequest, 3)}`).join(", ")}`,
      });
    }
    const under = strict.filter((x) => x.accuracy.underAdmitted > 0);
    out.push({
      ok: under.length === 0,
      text:
        under.length === 0
          ? "strict never denied a request that fit the true global count (under-admission 0)"
          : `strict under-admits (denials while the true global count had room) in ${under.length} of ${strict.length} runs, worst ${(() => {
              const w = under.reduce((a, b) =>
                b.accuracy.underAdmitted / b.requests > a.accuracy.underAdmitted / a.requests ? b : a,
              );
              return `${w.workload} N=${w.isolates}: ${int(w.accuracy.underAdmitted)} requests = ${pct(w.accuracy.underAdmitted / w.requests)} of all requests denied with room; capacity lost (shortfall) ${int(w.accuracy.shortfall ?? Number.NaN)} units = ${pct((w.accuracy.shortfall ?? Number.NaN) / Math.max(1, w.idealAdmitted))} of what an exact limiter admits`;
            })()}`,
    });
  }
  const settled = r.replay.filter((x) => x.recordedMinusAdmitted !== null);
  if (settled.length > 0) {
    const off = settled.filter((x) => Object.values(x.recordedMinusAdmitted!).some((v) => v !== 0));
    out.push({
      ok: off.length === 0,
      text:
        off.length === 0
          ? "after the final flush, Redis holds exactly the admitted units (quotagate strict and async, every run)"
          : `recorded usage differs from admitted units in ${off.map((x) => `${x.workload} N=${x.isolates} ${x.variant} ${JSON.stringify(x.recordedMinusAdmitted)}`).join(", ")}`,
    });
  }
  const failOpen = r.replay.filter(
    (x) => (x.counters.fail_open ?? 0) + (x.counters.timeouts ?? 0) + (x.counters.store_errors ?? 0) > 0,
  );
  if (failOpen.length > 0)
    out.push({
      ok: false,
      text: `store errors, timeouts or fail-open decisions distort ${failOpen.map((x) => `${x.workload} N=${x.isolates} ${x.variant}`).join(", ")}`,
    });
  const slow = r.replay.filter(
    (x) => x.variant.startsWith("upstash-ratelimit") && x.maxWallPerSimMinuteMs >= 55_000,
  );
  if (slow.length > 0)
    out.push({
      ok: false,
      text: `@upstash/ratelimit keys may have expired mid-window (a simulated minute took >= 55 s of wall time) in ${slow.map((x) => `${x.workload} N=${x.isolates}`).join(", ")}`,
    });
  if (r.live) {
    for (const v of ["quotagate-strict", "quotagate-async", "quotagate-memory"] as const) {
      for (const row of r.live.rows.filter((x) => x.variant === v)) {
        out.push({
          ok: row.relativeThroughput >= 0.9,
          text: `live ${v} x${row.instances}: ${num(row.relativeThroughput, 2)}x the plain proxy's throughput (target >= 0.9x)`,
        });
      }
    }
  }
  return out;
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
        x.exchangesPerRequest === null ? "—" : num(x.exchangesPerRequest, 4),
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
        secs(x.wallMs),
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
      "exch/req",
      "admitted",
      "over-admitted",
      "denied with room",
      "shortfall",
      "cache per tenant (entries x B/entry)",
      "wall",
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

function about(r: BenchResults): string {
  const m = r.machine;
  const s = r.source;
  return [
    `- command: \`${r.command}\``,
    `- started ${r.startedAt}; wall time ${secs(r.wallMs)} (replay ${secs(r.replayWallMs)}${r.live ? `, live ${secs(r.live.wallMs)}` : ""})`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.platform}; Node ${m.node}; redis-server ${m.redisServer}`,
    `- source: HEAD ${s.head}${s.dirty.length ? ` + uncommitted changes in ${s.dirty.join(", ")}` : ""} (src sha256 ${s.srcSha256})`,
    r.replay.length === 0
      ? "- replay: skipped"
      : `- replay: scale ${r.options.scale} of each workload's duration, tick ${r.options.tickMs} ms, seed ${r.options.seed}, isolates ${r.options.isolates.join(", ")}, ${r.options.jobs} run(s) in parallel (per-run wall times include that contention)`,
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
  else
    parts.push(
      `## Targets\n\n${targets(r)
        .map((v) => `- ${v.ok ? "PASS" : "**MISS**"}: ${v.text}`)
        .join("\n")}`,
    );
  liveParts(r, parts);
  return parts.join("\n\n");
}

function replayParts(r: BenchResults, parts: string[]): void {
  parts.push(
    `## Headline\n\nRedis commands per request as Upstash bills them (scripts' inner commands included). "exch" = quotagate acquire round trips to the store; "floor" = distinct (tenant, isolate, minute) triples that saw traffic, per request (an allowance cannot outlive its window). "over" = units admitted beyond a limit; "denied with room" = requests denied while the true global count of every window had room (under-admission); "shortfall" = units an exact limiter admits in a tenant-minute that this one did not (capacity lost; a denial made up for by a later admission in the same minute is not).\n\n${headline(r)}`,
  );
  parts.push(
    `## Targets\n\n${targets(r)
      .map((v) => `- ${v.ok ? "PASS" : "**MISS**"}: ${v.text}`)
      .join("\n")}`,
  );
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

const METHOD = `## How it is measured

\`npm run bench\` (options: \`--workloads\`, \`--isolates\`, \`--variants\`, \`--scale\`, \`--full\`, \`--tick-ms\`,
\`--seed\`, \`--jobs\`, \`--live\`/\`--no-live\`, \`--no-replay\`, \`--live-seconds\`, \`--live-instances\`,
\`--live-slices\`, \`--no-docs\`; \`npm run bench -- --help\`). The default (\`--scale 0.01\`; every workload lasts at
least 2 simulated minutes) takes about 6 minutes on 2 cores; \`--full\` replays the whole durations and takes
hours. Each run writes \`bench/results/<timestamp>.md\` and \`.json\` (every figure, per-command Redis counts
included) and rewrites this file.

**Replay (engine level, simulated clock).** Every (workload, isolate count, variant) run starts its own private
\`redis-server\` and local Upstash REST server (\`tools/upstash-local\`). N isolates are N independent limiter
instances (each with its own HTTP client) sharing that store; each request goes to a random isolate (seeded, the
same for every variant). All variants see the same request sequence. Requests whose arrival falls in the same
simulated tick (\`--tick-ms\`, 50 ms by default: a store round trip) are in flight together; all their decisions and
the work they handed to \`waitUntil\` finish before the next tick, so flushes ride on requests as in Workers. Runs
execute \`--jobs\` at a time (default: one per core), each in its own worker thread with its own servers.

- *Redis commands per request* = the server's \`redis_commands\` delta (INFO \`total_commands_processed\`, which
  counts the commands a Lua script runs, as Upstash bills them), final flush included.
- *HTTP round trips* = the server's \`http_requests\` delta; each round trip is classified by what it carries as
  request path (a request waited for it: acquires, seed-sync's syncs, every naive/ratelimit call) or background
  (\`waitUntil\`: quotagate's flushes). *Requests blocked* = decisions that did not settle before the event loop
  turned once (no round trip to the in-process server can finish that fast).
- *Over-admission* = units admitted beyond a limit, summed over every (tenant, calendar window, period), from
  the admitted requests' timestamps. *Under-admission* = denials while every window of the request still had room
  in the true global count (requests). *Shortfall* = per (tenant, minute), the units an exact global limiter admits
  on the same sequence minus those the variant admitted, summed where positive: capacity actually lost, as
  opposed to a denial that a later admission in the same minute made up for. Within a tick, admissions are
  counted before denials (the most favourable valid order for the limiter).
- *Floor* = distinct (tenant, isolate, minute) triples that saw traffic, per request: an allowance cannot outlive
  its window and one acquire covers all of a request's limits (an allowance cannot outlive its window). *Exchanges* = quotagate's acquire calls.
- *Cache per tenant* = \`limiter.cache.byteSize\` over the (isolate, tenant) pairs it holds, shown as entries per
  tenant x \`byteSize / size\` (the cache's own size estimate, not a heap measurement), over all isolates at the
  end of the replay, before the final flush.
- quotagate strict and async are checked after the final \`flush({returnAll: true})\`: the units recorded in Redis
  must equal the admitted units (no admitted unit is lost).

Variants:

- **naive**: the classic per-request limiter: per request and window, \`INCR\`, plus \`EXPIRE\` when the count is 1, one command
  per round trip (\`@upstash/redis\`, auto-pipelining off, like the Python original). Denied requests count too.
  It holds no per-isolate state, so it runs once per workload and its figures are repeated for other N.
- **seed-sync**: count locally and sync every 30 s: per-isolate counters per identifier, decisions from local counts
  only, a pipeline (\`INCRBY\` + \`EXPIRE\` per window) on the request path when more than 30 s passed since the last
  sync or on the first request of a minute or day. Like the seed it \`INCRBY\`s the cumulative local count (Redis
  over-counts; no decision reads it).
- **upstash-ratelimit-fixed / -sliding**: \`@upstash/ratelimit\` 2.2.0 \`fixedWindow\` / \`slidingWindow\` with the
  ephemeral cache, one \`Ratelimit\` per isolate per tier per window (minute and day are two \`limit()\` calls, not
  atomic: the minute is called first and a minute denial skips the day). Library defaults otherwise
  (auto-pipelining on, 5 s fail-open timeout, analytics off). It reads \`Date.now()\` internally; the replay sets
  \`Date.now\` to the simulated time during the synchronous start of each \`limit()\` call, which is the only place
  the library reads the clock (window bucket, sliding weight, ephemeral-cache expiry; the Lua scripts get the time
  as an argument). Only its \`PEXPIRE\` TTLs run in wall time, which is harmless while a simulated minute takes less
  than a wall minute (checked: the report flags any run where it did not).
- **quotagate-strict / -async**: \`Limiter\` from \`src/limiter\` per isolate over \`createUpstashStore\`, fake clock,
  plans from \`compilePolicy\`, the worker's defaults (cache 10,000 entries, TTL 60 s), store timeout 5 s (so a
  scheduling hiccup of the busy bench machine does not become a fail-open; timeouts are reported), \`decide(plan,
  {requests: 1}, waitUntil)\` per request and \`flush({returnAll: true})\` at the end. The replay passes plans
  directly: the worker's per-tenant plan lookup (one \`HGETALL\` per tenant per isolate per cache TTL) is not in
  these figures; the live run includes it.

**Live (HTTP).** The worker bundle (\`wrangler deploy --dry-run --outdir bench/.build\`) runs in K workerd
instances (Miniflare 5), in front of the demo origin, with the local Upstash server over redis-server (origin and
Upstash server in a worker thread). autocannon spreads its connections round-robin over the instances. All four
variants' instances run side by side and are measured in alternating slices (A B C D, D C B A, ...), so a drift of
the machine hits every variant alike. Variants: a plain proxy (\`ENABLE_QUOTA=false\`), quotagate with the
embedded memory store, quotagate strict and async on the Upstash server, all with limits far above the load (the
run measures the cost of deciding, not of denying); throughput is reported relative to the plain proxy with the
same K.

**Caveats.** Loopback HTTP to an in-process server is far faster than Upstash over the internet, so wall times and
live latencies say little about production; commands, round trips and admission counts do not depend on it.
Default runs replay a short slice (\`--scale\`); \`--full\` replays the whole durations (3 simulated hours for seed
002).`;

export function renderDocs(r: BenchResults, resultsFile: string): string {
  return `# Benchmarks

quotagate against a naive per-request INCR limiter, a local-count-and-sync-every-30-s limiter and \`@upstash/ratelimit\`, on the same
traffic: Redis commands and round trips per request, over- and under-admission, isolate memory, and live HTTP
throughput and latency. This file is rewritten by \`npm run bench\`; the latest run is below (full output:
\`${resultsFile}\`).

${METHOD}

# Latest results

${about(r)}

${body(r)}
`;
}
