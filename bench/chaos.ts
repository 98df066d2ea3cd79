// `npm run chaos`: the outage drill. Two workerd gateways on the Upstash store (tools/upstash-local over a private
// redis-server) under a bounded paced load, through three faults (Redis killed, the Upstash server stopped, the store
// slowed to 2 s a call); writes docs/chaos.md and bench/results/chaos-<timestamp>.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { checks, figures, phaseOf, type ScenarioTimes } from "./lib/chaos-analysis.ts";
import { pollGateways, runLoad, type Sample, type TenantLoad } from "./lib/chaos-load.ts";
import { type ChaosResults, renderChaos, type ScenarioResult } from "./lib/chaos-report.ts";
import { Rig, TIERS, type Tier } from "./lib/chaos-rig.ts";
import { describeMachine } from "./lib/machine.ts";

const root = resolve(import.meta.dirname, "..");
const LIMIT = 100;
const DEGRADED_SHARE = 0.1;
const CLIENTS = 8;
/** Each scenario: load for BEFORE, the fault for FAULT (starting 10 s before a minute boundary), load for AFTER. */
const BEFORE_MS = 15_000;
const FAULT_MS = 20_000;
const AFTER_MS = 15_000;
const FAULT_BEFORE_BOUNDARY_MS = 10_000;
/** Requests per second per tenant: one tenant fills its window before the fault, one nearly, one stays well below. */
const PROFILES = [
  { name: "hot", rate: 12 },
  { name: "warm", rate: 6 },
  { name: "cool", rate: 2 },
];

interface Scenario {
  id: string;
  title: string;
  notes: string;
  inject(rig: Rig): Promise<void>;
  clear(rig: Rig): Promise<void>;
}

const SCENARIOS: Scenario[] = [
  {
    id: "a",
    title: "redis-server killed (SIGKILL) and restarted after 20 s",
    notes:
      "redis-server dies by SIGKILL and starts again on the same port and the same data directory; its append-only " +
      "file is synced on every write, so it comes back with every write it answered (a Redis without persistence " +
      "would come back empty and forget the windows' counts). Its Lua script cache is empty after the restart, so " +
      "the first EVALSHA of each script gets NOSCRIPT and the client falls back to EVAL.",
    inject: (rig) => rig.killRedis(),
    clear: (rig) => rig.restartRedis(),
  },
  {
    id: "b",
    title: "the Upstash server stopped (as on SIGTERM) and restarted after 20 s",
    notes:
      "tools/upstash-local stops as it does on SIGTERM (no new connections; requests in flight get up to 2 s, then " +
      "every connection is cut), so the gateways' store calls meet a refused connection; it starts again on the " +
      "same port in front of the same redis-server, data untouched. (It runs in a worker thread of the drill, so " +
      "starting again takes milliseconds rather than a cold Node start.)",
    inject: (rig) => rig.stopUpstash(),
    clear: (rig) => rig.restartUpstash(),
  },
  {
    id: "c",
    title: "every store call slowed to 2 s for 20 s",
    notes:
      "tools/upstash-local holds every command request 2 s (POST /__delay) and then runs it, whether or not the " +
      "gateway is still waiting: with STORE_TIMEOUT_MS 1000 every call times out, and the gateway cannot know " +
      "whether what it sent was applied. Cleared by setting the delay back to 0; requests already held still " +
      "finish their 2 s.",
    inject: (rig) => rig.setStoreDelay(2_000),
    clear: (rig) => rig.setStoreDelay(0),
  },
];

const USAGE = `usage: npm run chaos -- [--scenarios a,b,c] [--no-docs] [--render f.json]
  --scenarios  which faults to run (default all): ${SCENARIOS.map((s) => `${s.id}: ${s.title}`).join("; ")}
  --no-docs    do not rewrite docs/chaos.md (the JSON is written to bench/results/ either way)
  --render f   only re-render docs/chaos.md from a results file (bench/results/chaos-*.json)`;

const tenantsOf = (id: string): TenantLoad[] =>
  TIERS.flatMap((tier: Tier) =>
    PROFILES.map((p) => ({ tenant: `${id}-${tier}-${p.name}`, tier, rate: p.rate })),
  );

const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function sleepUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  if (wait > 0) await sleep(wait);
}

/** A progress line every 5 s: answers per tier since the last line, and each gateway's breaker. */
function progress(id: string, times: ScenarioTimes) {
  const counts = new Map<Tier, Record<string, number>>();
  const breaker: string[] = [];
  const timer = setInterval(() => {
    const now = Date.now();
    const phase = phaseOf(now, times);
    const parts = TIERS.map((tier) => {
      const c = counts.get(tier) ?? {};
      return `${tier} ${c.ok ?? 0}/${c.limit ?? 0}/${c.degraded ?? 0}/${c["designed-503"] ?? 0}/${
        (c["other-5xx"] ?? 0) + (c.other ?? 0) + (c["client-error"] ?? 0)
      }`;
    });
    counts.clear();
    log(
      `(${id}) +${Math.round((now - times.start) / 1000)} s ${phase}: ${parts.join("  ")}  breaker ${
        breaker.join(",") || "?"
      }`,
    );
  }, 5_000);
  return {
    sample(s: Sample) {
      const c = counts.get(s.tier) ?? {};
      c[s.kind] = (c[s.kind] ?? 0) + 1;
      counts.set(s.tier, c);
    },
    reading(instance: number, open: boolean) {
      breaker[instance] = open ? "open" : "closed";
    },
    stop: () => clearInterval(timer),
  };
}

async function runScenario(rig: Rig, sc: Scenario, boundary: number): Promise<ScenarioResult> {
  const tenants = tenantsOf(sc.id);
  const faultPlanned = boundary - FAULT_BEFORE_BOUNDARY_MS;
  const times: ScenarioTimes = {
    start: faultPlanned - BEFORE_MS,
    end: faultPlanned + FAULT_MS + AFTER_MS,
    faultAt: faultPlanned,
    faultDone: faultPlanned,
    clearAt: faultPlanned + FAULT_MS,
    clearedAt: faultPlanned + FAULT_MS,
  };
  await sleepUntil(times.start - 1_000);
  log(`(${sc.id}) ${sc.title}: load from ${new Date(times.start).toISOString().slice(11, 19)}`);
  log(`(${sc.id}) progress columns per tier: 2xx/429 limit/429 degraded/503 designed/other`);
  const p = progress(sc.id, times);
  const load = runLoad({
    urls: rig.gateways.urls,
    tenants,
    startAt: times.start,
    endAt: times.end,
    clients: CLIENTS,
    onSample: p.sample,
  });
  const poll = pollGateways(rig, times.end, 250, (r) => p.reading(r.instance, r.breakerOpen));
  await sleepUntil(times.faultAt);
  times.faultAt = Date.now();
  await sc.inject(rig);
  times.faultDone = Date.now();
  log(`(${sc.id}) fault injected (${times.faultDone - times.faultAt} ms)`);
  await sleepUntil(times.clearAt);
  times.clearAt = Date.now();
  await sc.clear(rig);
  times.clearedAt = Date.now();
  log(`(${sc.id}) fault cleared: the store answers again (${times.clearedAt - times.clearAt} ms)`);
  const [{ samples, scheduled, skipped }, readings] = await Promise.all([load, poll]);
  p.stop();
  const drain = await rig.drain();
  log(
    `(${sc.id}) load done (${samples.length} of ${scheduled} scheduled requests sent, ${skipped} skipped as late); ` +
      `drained both gateways: ${drain.join(", ")}`,
  );
  const f = await figures({
    samples,
    readings,
    times,
    tenants,
    instances: rig.gateways.urls.length,
    limit: LIMIT,
    degradedShare: DEGRADED_SHARE,
    recorded: (tenant, w) => rig.recorded(tenant, w),
  });
  const result = {
    id: sc.id,
    title: sc.title,
    notes: sc.notes,
    times,
    load: { scheduled, sent: samples.length, skipped },
    figures: f,
    drain,
    checks: checks(f, drain),
  };
  for (const c of result.checks) log(`(${sc.id}) ${c.ok ? "pass" : "FAIL"}: ${c.what}`);
  return result;
}

/** Warm-up (not measured): the gateways compile and connect before the first scenario's baseline. */
async function warmUp(rig: Rig): Promise<void> {
  log("warm-up: 5 s of load on throwaway tenants");
  const at = Date.now() + 200;
  await runLoad({
    urls: rig.gateways.urls,
    tenants: PROFILES.map((p) => ({ tenant: `warmup-${p.name}`, tier: "open" as const, rate: p.rate * 3 })),
    startAt: at,
    endAt: at + 5_000,
    clients: CLIENTS,
  });
}

/** Writes the JSON (always) and docs/chaos.md (unless told not to), prints the report, and sets the exit code. */
function publish(res: ChaosResults, docs: boolean): void {
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `chaos-${res.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(json, `${JSON.stringify(res, null, 2)}\n`);
  const md = renderChaos(res);
  if (docs) writeFileSync(join(root, "docs", "chaos.md"), md);
  console.log(`\n${md}`);
  log(
    `wrote ${relative(root, json)}${docs ? " and docs/chaos.md" : ""} in ${Math.round(res.wallMs / 1000)} s`,
  );
  const failed = res.scenarios.flatMap((r) =>
    r.checks.filter((c) => !c.ok).map((c) => `(${r.id}) ${c.what}`),
  );
  if (failed.length > 0) {
    log(`${failed.length} checks failed:\n  ${failed.join("\n  ")}`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenarios: { type: "string" },
      "no-docs": { type: "boolean", default: false },
      render: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.render !== undefined) {
    const md = renderChaos(JSON.parse(readFileSync(values.render, "utf8")) as ChaosResults);
    if (!values["no-docs"]) writeFileSync(join(root, "docs", "chaos.md"), md);
    console.log(md);
    return;
  }
  const wanted = (values.scenarios ?? SCENARIOS.map((s) => s.id).join(",")).split(",").map((s) => s.trim());
  const scenarios = wanted.map((id) => {
    const sc = SCENARIOS.find((s) => s.id === id);
    if (!sc) throw new Error(`unknown scenario "${id}"\n${USAGE}`);
    return sc;
  });
  const started = Date.now();
  const all = scenarios.flatMap((s) => tenantsOf(s.id));
  const rig = await Rig.start(
    {
      limit: LIMIT,
      degradedShare: DEGRADED_SHARE,
      tenants: Object.fromEntries(all.map((t) => [t.tenant, t.tier])),
    },
    log,
  );
  const results: ScenarioResult[] = [];
  try {
    await warmUp(rig);
    // The first fault starts 10 s before a minute boundary, with its load 15 s earlier (and a second to spare).
    const lead = BEFORE_MS + FAULT_BEFORE_BOUNDARY_MS + 2_000;
    let boundary = Math.ceil((Date.now() + lead) / 60_000) * 60_000;
    log(
      `first scenario's fault at ${new Date(boundary - FAULT_BEFORE_BOUNDARY_MS).toISOString().slice(11, 19)}`,
    );
    for (const sc of scenarios) {
      results.push(await runScenario(rig, sc, boundary));
      boundary += 60_000;
    }
  } finally {
    await rig.close();
  }
  const machine = describeMachine();
  const res: ChaosResults = {
    startedAt: new Date(started).toISOString(),
    wallMs: Date.now() - started,
    machine: `${machine.cpu}, ${machine.cores} cores (shared), Node ${machine.node}, redis-server ${machine.redisServer}`,
    setup: {
      gateways: 2,
      clients: CLIENTS,
      limit: LIMIT,
      degradedShare: DEGRADED_SHARE,
      storeTimeoutMs: 1_000,
      probeIntervalMs: 1_000,
      tenants: all,
      timeline: { beforeMs: BEFORE_MS, faultMs: FAULT_MS, afterMs: AFTER_MS },
    },
    scenarios: results,
  };
  publish(res, !values["no-docs"]);
}

main().catch((err: unknown) => {
  console.error("chaos: failed:", err);
  process.exit(1);
});
