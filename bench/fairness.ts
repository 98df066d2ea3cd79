// `npm run bench:fairness`: a noisy neighbour against a quiet tenant behind a slow origin whose in-flight cap the
// gateway enforces (`concurrency.origin`). The real worker bundle runs in workerd instances on the Upstash store
// (tools/upstash-local over a private redis-server); the noisy tenant keeps many requests open with `Prefer: wait`,
// the quiet one sends one request at a time at a steady pace. The same load runs with the waiting queue served
// round-robin across tenants and in arrival order (fifo). Writes bench/results/fairness-<timestamp>.{md,json} and
// docs/fairness.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { buildWorker, startIsolates } from "../tools/isolates.ts";
import { startRedisServer } from "../tools/redis-server.ts";
import { startUpstashLocal } from "../tools/upstash-local/server.ts";
import { describeMachine } from "./lib/machine.ts";
import { type SlowOrigin, startSlowOrigin } from "./lib/slow-origin.ts";

const root = resolve(import.meta.dirname, "..");
const TOKEN = "bench-fairness-token";
const ORDERS = ["fifo", "round-robin"] as const;
type Order = (typeof ORDERS)[number];

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "15" },
    instances: { type: "string", default: "2" },
    noisy: { type: "string", default: "48" },
    cap: { type: "string", default: "8" },
    "delay-ms": { type: "string", default: "100" },
    "quiet-every-ms": { type: "string", default: "200" },
    "no-docs": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`npm run bench:fairness -- [options]
  --seconds n         measured seconds per queue order (default 15)
  --instances n       workerd instances sharing the Upstash store (default 2)
  --noisy n           open requests the noisy tenant keeps (default 48)
  --cap n             concurrency.origin: requests in flight to the origin at once (default 8)
  --delay-ms n        the origin's answer time (default 100)
  --quiet-every-ms n  the quiet tenant's pause between its requests (default 200)
  --no-docs           do not rewrite docs/fairness.md`);
  process.exit(0);
}
const opts = {
  seconds: Number(values.seconds),
  instances: Number(values.instances),
  noisy: Number(values.noisy),
  cap: Number(values.cap),
  delayMs: Number(values["delay-ms"]),
  quietEveryMs: Number(values["quiet-every-ms"]),
};
for (const [k, v] of Object.entries(opts))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k}: a positive integer, got ${v}`);

interface Sample {
  status: number;
  waitedMs: number;
  latencyMs: number;
}

function policy(order: Order) {
  return {
    defaultTier: "bench",
    tiers: {
      bench: {
        limits: [{ window: "minute", limit: 10_000_000 }],
        queue: { maxWaitSeconds: 60, maxDepth: 1_000 },
      },
    },
    identity: { header: { enabled: true } },
    concurrency: { origin: opts.cap },
    queue: { order },
  };
}

/** One client: sends requests one after another (pausing `pauseMs` between them) until `stop` says so. */
async function client(
  urls: string[],
  tenant: string,
  first: number,
  pauseMs: number,
  stop: () => boolean,
  out: Sample[],
): Promise<void> {
  for (let i = first; !stop(); i++) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${urls[i % urls.length]}/work`, {
        headers: { "x-tenant-id": tenant, prefer: "wait=60" },
      });
      await res.arrayBuffer();
      out.push({
        status: res.status,
        waitedMs: Number(res.headers.get("x-quota-waited-ms") ?? Number.NaN),
        latencyMs: performance.now() - t0,
      });
    } catch {
      out.push({ status: 0, waitedMs: Number.NaN, latencyMs: performance.now() - t0 });
    }
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

const pct = (xs: number[], p: number) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!) : null;
};

function summary(samples: Sample[]) {
  const ok = samples.filter((s) => s.status === 200);
  return {
    requests: samples.length,
    ok: ok.length,
    refused: samples.filter((s) => s.status === 429 || s.status === 503).length,
    errors: samples.filter((s) => s.status !== 200 && s.status !== 429 && s.status !== 503).length,
    waitP50Ms: pct(
      ok.map((s) => s.waitedMs),
      50,
    ),
    waitP99Ms: pct(
      ok.map((s) => s.waitedMs),
      99,
    ),
    latencyP50Ms: pct(
      ok.map((s) => s.latencyMs),
      50,
    ),
    latencyP99Ms: pct(
      ok.map((s) => s.latencyMs),
      99,
    ),
  };
}

type Upstash = Awaited<ReturnType<typeof startUpstashLocal>>;

async function runOrder(order: Order, script: string, upstash: Upstash, origin: SlowOrigin) {
  const iso = await startIsolates(opts.instances, script, {
    // A path of its own per run: the origin's slots are keyed by ORIGIN_URL, so runs never share slot sets.
    ORIGIN_URL: `${origin.url}/${order}-${Date.now()}`,
    QUOTA_POLICY: JSON.stringify(policy(order)),
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: TOKEN,
  });
  try {
    console.log(`fairness ${order}: warming up (2 s)`);
    let stopAt = performance.now() + 2_000;
    const stop = () => performance.now() >= stopAt;
    await Promise.all(
      Array.from({ length: opts.instances }, (_, i) => client(iso.urls, "warm", i, 0, stop, [])),
    );
    origin.reset();
    upstash.resetStats();
    const noisy: Sample[] = [];
    const quiet: Sample[] = [];
    stopAt = performance.now() + opts.seconds * 1_000;
    console.log(`fairness ${order}: ${opts.noisy} noisy clients and 1 quiet one for ${opts.seconds} s`);
    const progress = setInterval(
      () => console.log(`  ${order}: noisy ${noisy.length} answered, quiet ${quiet.length}`),
      5_000,
    );
    await Promise.all([
      ...Array.from({ length: opts.noisy }, (_, i) => client(iso.urls, "noisy", i, 0, stop, noisy)),
      client(iso.urls, "quiet", 0, opts.quietEveryMs, stop, quiet),
    ]);
    clearInterval(progress);
    const seen = origin.inFlight();
    const store = await upstash.snapshot();
    const answered = noisy.length + quiet.length;
    return {
      order,
      noisy: summary(noisy),
      quiet: summary(quiet),
      originMaxInFlight: seen.max,
      originServedPerSec: Math.round(seen.served / opts.seconds),
      redisCommandsPerRequest: Math.round(((store.redis_commands ?? Number.NaN) / answered) * 100) / 100,
      upstashHttpPerRequest: Math.round((store.http_requests / answered) * 100) / 100,
    };
  } finally {
    await iso.dispose();
  }
}

type Row = Awaited<ReturnType<typeof runOrder>>;

function render(rows: Row[], wallMs: number): string {
  const m = describeMachine();
  const lines = [
    `# Fairness: a noisy neighbour and a quiet tenant behind a capped slow origin`,
    "",
    `\`npm run bench:fairness -- --seconds ${opts.seconds} --instances ${opts.instances} --noisy ${opts.noisy} --cap ${opts.cap} --delay-ms ${opts.delayMs} --quiet-every-ms ${opts.quietEveryMs}\``,
    "",
    `${opts.instances} workerd instance(s) of the worker bundle on one Upstash store; the origin answers every request after ${opts.delayMs} ms and the gateway caps it at ${opts.cap} in flight (\`concurrency.origin\`). The noisy tenant keeps ${opts.noisy} requests open (\`Prefer: wait=60\`); the quiet tenant sends one request, then pauses ${opts.quietEveryMs} ms. Waits are the gateway's \`X-Quota-Waited-Ms\` of admitted requests; the in-flight maximum is counted by the origin itself. Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}. Wall time ${Math.round(wallMs / 1000)} s.`,
    "What to read: with the queue in arrival order the quiet tenant waits behind the noisy tenant's backlog; round-robin serves it at its turn. Within an isolate a turn is one request; across isolates each runs its own ring, and a slot freed in the other isolate is found at the next recheck (`queue.recheckMs`, 1 s), which is what the quiet tenant's p99 shows. The origin's own count must never pass the cap. Redis commands and Upstash HTTP calls per request are the store's own counts over the measured seconds, both tenants together: the rate limits' leases cost next to nothing here, so they are almost all the concurrency slots' (a slot taken and given back per request, renewals, and the rechecks of waiting requests), each slot taken from Redis rather than leased, since a slot comes back at every response end.",
    "",
    "| queue order | tenant | admitted | refused | errors | wait p50 (ms) | wait p99 (ms) | latency p50 (ms) | latency p99 (ms) | origin max in flight / cap | origin answers/s | Redis cmds/req | Upstash HTTP/req |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows)
    for (const [tenant, s] of [
      ["noisy", r.noisy],
      ["quiet", r.quiet],
    ] as const)
      lines.push(
        `| ${r.order} | ${tenant} | ${s.ok} | ${s.refused} | ${s.errors} | ${s.waitP50Ms} | ${s.waitP99Ms} | ${s.latencyP50Ms} | ${s.latencyP99Ms} | ${r.originMaxInFlight} / ${opts.cap} | ${r.originServedPerSec} | ${r.redisCommandsPerRequest} | ${r.upstashHttpPerRequest} |`,
      );
  return `${lines.join("\n")}\n`;
}

const started = performance.now();
console.log("fairness: building the worker bundle (wrangler deploy --dry-run)");
const script = await buildWorker(join(root, "bench", ".build", "fairness"));
const redis = await startRedisServer();
const upstash = await startUpstashLocal({ redisUrl: redis.url, token: TOKEN });
const origin = await startSlowOrigin(opts.delayMs);
const rows: Row[] = [];
try {
  for (const order of ORDERS) rows.push(await runOrder(order, script, upstash, origin));
} finally {
  await origin.close();
  await upstash.close();
  await redis.stop();
}
const md = render(rows, performance.now() - started);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `fairness-${stamp}.md`), md);
writeFileSync(join(dir, `fairness-${stamp}.json`), `${JSON.stringify({ opts, rows }, null, 2)}\n`);
if (!values["no-docs"]) writeFileSync(join(root, "docs", "fairness.md"), md);
console.log(
  `\n${md}\nwritten: bench/results/fairness-${stamp}.{md,json}${values["no-docs"] ? "" : " and docs/fairness.md"}`,
);
