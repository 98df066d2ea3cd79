// `npm run bench`: replays seeded workloads through every limiter variant on a simulated clock (engine level), then
// optionally load-tests the real worker bundle in workerd (live), and writes bench/results/<timestamp>.{md,json} and
// docs/benchmarks.md.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { type ColdStartResult, measureColdStart } from "./lib/cold-start.ts";
import { floorOf, type JobSpec, workloadOf } from "./lib/job.ts";
import type { JobMessage } from "./lib/job-worker.ts";
import { type LiveOptions, type LiveResult, runLive } from "./lib/live.ts";
import { describeMachine, describeSource } from "./lib/machine.ts";
import { renderDocs, renderResults } from "./lib/report.ts";
import type { BenchResults, ReplayRow } from "./lib/results.ts";
import { VARIANT_NAMES, VARIANTS, type VariantName } from "./lib/variants.ts";
import { DEFAULT_ISOLATES, defaultIsolatesOf, WORKLOAD_NAMES, type WorkloadName } from "./lib/workloads.ts";

const root = resolve(import.meta.dirname, "..");
export const DEFAULT_SCALE = 0.01;

const USAGE = `usage: npm run bench -- [options]
  --workloads a,b    ${WORKLOAD_NAMES.join(",")} (default: all)
  --isolates 1,4,16  isolate counts for the replay, every workload (default: ${DEFAULT_ISOLATES.join(",")}; far-below 64 only)
  --variants a,b     ${VARIANT_NAMES.join(",")} (default: all)
  --scale x          fraction of each workload's simulated duration, at least 2 simulated minutes (far-below: 5)
                     (default ${DEFAULT_SCALE}, so every workload runs its minimum)
  --full             --scale 1 (seed-002 workloads: 3 simulated hours, ~2.2M requests per mix)
  --tick-ms n        simulated store round trip: requests arriving in the same tick are in flight together (default 50)
  --seed n           PRNG seed (default 2)
  --live / --no-live run the live HTTP benchmark in workerd (default: on)
  --cold-starts n    fresh workerd instances timed for the cold start, 0 to skip (default 5)
  --live-seconds n   measured seconds per live variant (default 10)
  --live-instances   workerd instance counts for the live benchmark (default 1,2)
  --live-slices n    alternating measured slices per live variant (default 4)
  --jobs n           replay runs in parallel, each in its own worker thread with its own servers (default: cores)
  --no-replay        skip the replay (live only)
  --render f.json    only re-render f.md (next to it) and docs/benchmarks.md from a results file
  --no-docs          do not rewrite docs/benchmarks.md`;

function list<T extends string>(raw: string | undefined, all: readonly T[], what: string): T[] {
  if (raw === undefined) return [...all];
  const items = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const it of items)
    if (!all.includes(it as T)) throw new Error(`unknown ${what} "${it}" (known: ${all.join(", ")})`);
  return items as T[];
}

function numbers(raw: string, what: string): number[] {
  const out = raw.split(",").map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1 || n > 255)) throw new Error(`bad ${what}: ${raw}`);
  return out;
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      workloads: { type: "string" },
      isolates: { type: "string" },
      variants: { type: "string" },
      scale: { type: "string" },
      full: { type: "boolean", default: false },
      "tick-ms": { type: "string", default: "50" },
      seed: { type: "string", default: "2" },
      live: { type: "boolean", default: true },
      "no-live": { type: "boolean", default: false },
      "live-seconds": { type: "string", default: "10" },
      "live-instances": { type: "string", default: "1,2" },
      "live-slices": { type: "string", default: "4" },
      "cold-starts": { type: "string", default: "5" },
      "no-docs": { type: "boolean", default: false },
      "no-replay": { type: "boolean", default: false },
      render: { type: "string" },
      jobs: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scale = values.full ? 1 : values.scale !== undefined ? Number(values.scale) : DEFAULT_SCALE;
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale must be in (0, 1], got ${values.scale}`);
  const tickMs = Number(values["tick-ms"]);
  if (!Number.isInteger(tickMs) || tickMs < 1 || 60_000 % tickMs !== 0)
    throw new Error("--tick-ms must divide 60000");
  if (!(Number.isInteger(Number(values["cold-starts"])) && Number(values["cold-starts"]) >= 0))
    throw new Error("--cold-starts must be a whole number");
  return {
    workloads: list<WorkloadName>(values.workloads, WORKLOAD_NAMES, "workload"),
    isolates: values.isolates !== undefined ? numbers(values.isolates, "--isolates") : null,
    variants: list<VariantName>(values.variants, VARIANT_NAMES, "variant"),
    scale,
    full: values.full!,
    tickMs,
    seed: Number(values.seed),
    live: values.live! && !values["no-live"],
    liveSeconds: Number(values["live-seconds"]),
    liveInstances: numbers(values["live-instances"]!, "--live-instances"),
    liveSlices: numbers(values["live-slices"]!, "--live-slices")[0]!,
    coldStarts: Number(values["cold-starts"]),
    docs: !values["no-docs"],
    replay: !values["no-replay"],
    render: values.render,
    jobs: values.jobs !== undefined ? Number(values.jobs) : os.cpus().length,
  };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");

interface Planned {
  spec: JobSpec;
  requests: number;
  /** Isolate-independent variant at a further isolate count: its row is copied from the first one. */
  reuse: boolean;
}

/** Runs the jobs on `jobs` worker threads, printing overall progress every few seconds. */
async function runPool(planned: Planned[], jobs: number): Promise<Map<Planned, ReplayRow>> {
  const queue = planned.filter((p) => !p.reuse);
  const totalWork = queue.reduce((s, p) => s + p.requests, 0);
  const rows = new Map<Planned, ReplayRow>();
  const running = new Map<Planned, { done: number; started: number }>();
  let finishedWork = 0;
  let next = 0;
  let lastPrint = 0;
  const label = (p: Planned) => `${p.spec.workload} x${p.spec.isolates} ${p.spec.variant}`;
  const started = performance.now();
  const overall = () => {
    let work = finishedWork;
    for (const r of running.values()) work += r.done;
    const share = work / totalWork;
    const elapsed = (performance.now() - started) / 1000;
    // Rough: requests are the unit of work, though a run over more isolates costs more per request.
    const eta = share > 0.02 ? `, ~${Math.round((elapsed * (1 - share)) / share)} s left` : "";
    return `${(100 * share).toFixed(1).padStart(5)}% (${elapsed.toFixed(0)} s${eta})`;
  };
  const print = (force = false) => {
    const now = performance.now();
    if (!force && now - lastPrint < 3_000) return;
    lastPrint = now;
    const parts = [...running].map(
      ([p, r]) =>
        `${label(p)} ${((100 * r.done) / p.requests).toFixed(0)}% (${((now - r.started) / 1000).toFixed(0)} s)`,
    );
    console.log(`${overall()} | ${rows.size}/${queue.length} runs done | running: ${parts.join("; ")}`);
  };
  const thread = async () => {
    const worker = new Worker(new URL("./lib/job-worker.ts", import.meta.url));
    try {
      for (;;) {
        const p = queue[next++];
        if (!p) return;
        running.set(p, { done: 0, started: performance.now() });
        const row = await new Promise<ReplayRow>((resolvePromise, reject) => {
          const onMessage = (m: JobMessage) => {
            if (m.type === "progress") {
              running.get(p)!.done = m.done;
              print();
              return;
            }
            worker.off("message", onMessage);
            worker.off("error", reject);
            if (m.type === "done") resolvePromise(m.row);
            else reject(new Error(`${label(p)}: ${m.message}`));
          };
          worker.on("message", onMessage);
          worker.once("error", reject);
          worker.postMessage(p.spec);
        });
        running.delete(p);
        finishedWork += p.requests;
        rows.set(p, row);
        console.log(
          `${overall()} | [${rows.size}/${queue.length}] ${label(p)}: ${(row.wallMs / 1000).toFixed(1)} s (CPU ${((row.cpuMs ?? 0) / 1000).toFixed(1)} s), ${row.redisCommandsPerRequest.toFixed(4)} cmds/req, over-admitted ${fmtInt(row.accuracy.overAdmitted)}, denied with room ${fmtInt(row.accuracy.underAdmitted)}, shortfall ${fmtInt(row.accuracy.shortfall)}`,
        );
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, queue.length)) }, thread));
  return rows;
}

/** Re-renders a results file's markdown and docs/benchmarks.md (after a change of the report's layout). */
function render(file: string, docs: boolean): void {
  const path = resolve(file);
  const results = JSON.parse(readFileSync(path, "utf8")) as BenchResults;
  const md = path.replace(/\.json$/, ".md");
  writeFileSync(md, renderResults(results));
  console.log(`rewrote ${relative(root, md)}`);
  if (docs) {
    writeFileSync(join(root, "docs", "benchmarks.md"), renderDocs(results, relative(root, md)));
    console.log("rewrote docs/benchmarks.md");
  }
}

type Options = ReturnType<typeof parseCli>;

/** Every (workload, isolates, variant) run; an isolate-independent variant runs once per workload and its row is
 * copied to the other isolate counts (with their own floor). */
async function replayAll(
  opts: Options,
  workloads: Array<{ w: { name: WorkloadName; count: number }; isolates: number[] }>,
): Promise<ReplayRow[]> {
  const planned: Planned[] = [];
  for (const { w, isolates } of workloads)
    for (const [ix, n] of isolates.entries())
      for (const variant of opts.variants)
        planned.push({
          spec: {
            workload: w.name,
            scale: opts.scale,
            seed: opts.seed,
            isolates: n,
            variant,
            tickMs: opts.tickMs,
          },
          requests: w.count,
          reuse: VARIANTS[variant].isolateIndependent && ix > 0,
        });
  if (planned.length === 0) return [];
  console.log(`replay: ${planned.filter((p) => !p.reuse).length} runs on ${opts.jobs} worker thread(s)`);
  const done = await runPool(planned, opts.jobs);
  return planned.map((p) => {
    const own = done.get(p);
    if (own) return own;
    const base = [...done].find(
      ([q]) => q.spec.workload === p.spec.workload && q.spec.variant === p.spec.variant,
    )![1];
    const floor = floorOf(p.spec.workload, opts.scale, opts.seed, p.spec.isolates);
    return {
      ...base,
      isolates: p.spec.isolates,
      floorTriples: floor,
      floorPerRequest: floor / base.requests,
      reusedFrom: base.isolates,
    };
  });
}

async function main(): Promise<void> {
  const opts = parseCli();
  if (opts.render !== undefined) return render(opts.render, opts.docs);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const machine = describeMachine();
  // Read before anything runs: others may edit src/ while a long run goes on.
  const source = describeSource(root);
  const startedAt = new Date();
  const t0 = performance.now();
  console.log(`quotagate bench: ${command}`);
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, redis-server ${machine.redisServer}`,
  );

  const workloads = opts.workloads.map((name) => {
    const { w, ideal } = workloadOf(name, opts.scale, opts.seed);
    const isolates = opts.isolates ?? [...defaultIsolatesOf(name)];
    console.log(
      `workload ${name}: ${fmtInt(w.count)} requests over ${(w.durationMs / 60_000).toFixed(1)} simulated min, ${fmtInt(w.tenants.length)} tenants (an exact limiter admits ${fmtInt(ideal)}), isolates ${isolates.join(",")}`,
    );
    return { w, ideal, isolates };
  });

  const rows = opts.replay ? await replayAll(opts, workloads) : [];
  const replayWallMs = performance.now() - t0;

  let coldStart: ColdStartResult | null = null;
  if (opts.coldStarts > 0) {
    console.log(`cold start: building the bundle and timing ${opts.coldStarts} fresh workerd instances`);
    coldStart = await measureColdStart(root, opts.coldStarts);
    console.log(
      `cold start: ${fmtInt(coldStart.rawBytes)} B raw, ${fmtInt(coldStart.gzipBytes)} B gzipped; ready ${coldStart.quotagate.ready.medianMs.toFixed(0)} ms (baseline ${coldStart.baseline.ready.medianMs.toFixed(0)} ms), first response ${coldStart.quotagate.firstResponse.medianMs.toFixed(0)} ms (baseline ${coldStart.baseline.firstResponse.medianMs.toFixed(0)} ms)`,
    );
  }

  let live: LiveResult | null = null;
  if (opts.live) {
    const liveOpts: LiveOptions = {
      seconds: opts.liveSeconds,
      instances: opts.liveInstances,
      root,
      slices: opts.liveSlices,
    };
    live = await runLive(liveOpts);
  }

  const results: BenchResults = {
    command,
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(performance.now() - t0),
    replayWallMs: Math.round(replayWallMs),
    machine,
    source,
    options: {
      workloads: opts.workloads,
      isolates: opts.isolates,
      variants: opts.variants,
      scale: opts.scale,
      full: opts.full,
      tickMs: opts.tickMs,
      seed: opts.seed,
      live: opts.live,
      liveSeconds: opts.liveSeconds,
      liveInstances: opts.liveInstances,
      jobs: opts.jobs,
    },
    workloads: workloads.map(({ w, ideal, isolates }) => ({
      name: w.name,
      description: w.description,
      requests: w.count,
      tenants: w.tenants.length,
      simulatedMinutes: w.durationMs / 60_000,
      idealAdmitted: ideal,
      isolates,
    })),
    replay: rows,
    live,
    coldStart,
  };
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const md = renderResults(results);
  writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${stamp}.md`), md);
  console.log(`\nwrote bench/results/${stamp}.md and .json`);
  if (opts.docs) {
    writeFileSync(join(root, "docs", "benchmarks.md"), renderDocs(results, `bench/results/${stamp}.md`));
    console.log("rewrote docs/benchmarks.md");
  }
  console.log(`total wall time ${(results.wallMs / 1000).toFixed(0)} s`);
  console.log(md.split("\n## ")[1] ? `\n## ${md.split("\n## ")[1]}` : "");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
