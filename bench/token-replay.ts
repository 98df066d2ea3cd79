// Replays LLM traffic against a token limit: requests with random max_tokens reserve their estimate, stay in flight for
// a few requests, then settle a random actual usage (sometimes above the estimate). Real Limiters (one per isolate)
// over the UpstashStore, the local Upstash-compatible server and a private redis-server, with a simulated clock.
// Measures per minute window: over-admission against the stated bound (limit + overshoots of the window's requests),
// false refusals (refused, though the window's actual usage plus this request's would have fit), Redis commands per
// request. Usage: npm run bench:tokens [-- --minutes 10 --isolates 1,4 --no-docs]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { grantPeriod } from "../src/algorithms/limit-window.ts";
import { createFakeClock } from "../src/core/clock.ts";
import type { Decision } from "../src/core/quota.ts";
import { createLimiter, type Limiter } from "../src/limiter/limiter.ts";
import { PlanResolver } from "../src/limiter/plan-resolver.ts";
import { createQuotaService, type QuotaService } from "../src/limiter/quota-service.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { compilePolicy } from "../src/policy/compiled-policy.ts";
import { policySchema } from "../src/policy/policy-schema.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";
import { startRedisServer } from "../tools/redis-server.ts";
import { startUpstashLocal } from "../tools/upstash-local/server.ts";
import { describeMachine, describeSource } from "./lib/machine.ts";
import { createPrng } from "./lib/prng.ts";

const { values } = parseArgs({
  options: {
    "no-docs": { type: "boolean", default: false },
    minutes: { type: "string", default: "10" },
    isolates: { type: "string", default: "1,4" },
  },
});
const minutes = Number(values.minutes);
const isolateCounts = values.isolates.split(",").map(Number);
const LIMIT = 20_000;
const policy = compilePolicy(
  policySchema.parse({
    tiers: { llm: { limits: [{ dimension: "tokens", window: "minute", limit: LIMIT }] } },
    defaultTier: "llm",
  }),
);
const [tokensMinute] = policy.plan("-", "llm").limits;

interface Scenario {
  name: string;
  /** Requests per simulated second, all isolates together. */
  rps: number;
  /** Share of requests whose actual usage passes their estimate (no max_tokens: the default output is exceeded). */
  overshootShare: number;
}

// A request reserves about 795 tokens on average (prompt 275 + max_tokens 520) and uses about 535.
const scenarios: Scenario[] = [
  { name: "reservations at ~0.7x the limit", rps: 0.3, overshootShare: 0.1 },
  { name: "reservations at ~3x the limit", rps: 1.25, overshootShare: 0.1 },
  { name: "reservations at ~3x the limit, 40% overshoot", rps: 1.25, overshootShare: 0.4 },
];

/** One request: what it reserves and what it really costs. */
function draw(rand: () => number, overshootShare: number) {
  const prompt = 50 + Math.floor(rand() * 450);
  const maxTokens = 16 + Math.floor(rand() * 1_009);
  const reserved = prompt + maxTokens;
  const over = rand() < overshootShare;
  const output = over ? maxTokens + Math.floor(rand() * 1_500) : Math.floor(maxTokens * (0.1 + 0.9 * rand()));
  return { reserved, actual: Math.max(1, Math.round(prompt * 0.9) + output) };
}

interface Pending {
  quota: QuotaService;
  decision: Decision;
  atMs: number;
  reserved: number;
  actual: number;
  left: number;
}

const redis = await startRedisServer();
const upstash = await startUpstashLocal({ redisUrl: redis.url, token: "bench" });
const rows: Array<Record<string, string | number>> = [];
try {
  for (const s of scenarios) for (const n of isolateCounts) rows.push(await replay(s, n, `${rows.length}`));
} finally {
  await upstash.close();
  await redis.stop();
}

async function replay(s: Scenario, n: number, run: string): Promise<Record<string, string | number>> {
  const clock = createFakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const store = createUpstashStore({ url: upstash.url, token: "bench", timeoutMs: 5_000 });
  const limiters: Limiter[] = [];
  const quotas = Array.from({ length: n }, () => {
    const metrics = new Metrics();
    const limiter = createLimiter({
      store,
      clock,
      metrics,
      cacheSize: 1_000,
      cacheTtlMs: 60_000,
      storeTimeoutMs: 5_000,
    });
    limiters.push(limiter);
    const resolver = new PlanResolver({ policy, store, metrics, cacheTtlMs: 60_000, storeTimeoutMs: 5_000 });
    return createQuotaService(limiter, resolver, clock);
  });
  const tenant = `tok-${run}`;
  // Warm-up outside the measurement: script load and the tenant record read.
  await quotas[0]!.admit({ tenant: `${tenant}-warm` }, { tokens: 1 }, () => undefined);
  const before = await upstash.snapshot();
  const rand = createPrng(7 + Number(run));
  const total = Math.round(s.rps * 60 * minutes);
  const stepMs = 1000 / s.rps;
  const started = clock.now();
  const background: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => {
    background.push(p);
  };
  /** Per window: actual usage of admitted requests (what an oracle knowing every cost would count), overshoots. */
  const windows = new Map<string, { actual: number; overshoot: number }>();
  let inFlight: Pending[] = [];
  let admitted = 0;
  let refused = 0;
  let falseRefusals = 0;
  let blocking = 0;
  const settle = (p: Pending) => p.quota.settle(p.decision, "tokens", p.actual - p.reserved, p.atMs);
  for (let i = 0; i < total; i++) {
    clock.set(Math.round(started + i * stepMs));
    const { reserved, actual } = draw(rand, s.overshootShare);
    const quota = quotas[Math.floor(rand() * n)]!;
    const decision = await quota.admit({ tenant }, { tokens: reserved }, waitUntil);
    if (!decision.local) blocking++;
    const w = grantPeriod(tokensMinute!, clock.now()).id;
    const win = windows.get(w) ?? { actual: 0, overshoot: 0 };
    windows.set(w, win);
    if (decision.allowed) {
      admitted++;
      win.actual += actual;
      win.overshoot += Math.max(0, actual - reserved);
      inFlight.push({ quota, decision, atMs: clock.now(), reserved, actual, left: Math.floor(rand() * 6) });
    } else {
      refused++;
      if (win.actual + actual <= LIMIT) falseRefusals++;
    }
    for (const p of inFlight) if (--p.left < 0) settle(p);
    inFlight = inFlight.filter((p) => p.left >= 0);
    if (background.length) await Promise.all(background.splice(0));
  }
  for (const p of inFlight) settle(p);
  for (const l of limiters) await l.flush({ returnAll: true });
  const after = await upstash.snapshot();
  let over = 0;
  let bound = 0;
  let worst = 0;
  for (const [periodId, win] of windows) {
    const page = await store.scanUsage(tokensMinute!, periodId, "0", 100);
    const recorded = page.entries.find(([t]) => t === tenant)?.[1] ?? 0;
    if (recorded !== win.actual)
      throw new Error(`window ${periodId}: recorded ${recorded} != actual ${win.actual}`);
    over += Math.max(0, recorded - LIMIT);
    bound += win.overshoot;
    worst = Math.max(worst, recorded - LIMIT - win.overshoot);
  }
  const commands = (after.redis_commands ?? 0) - (before.redis_commands ?? 0);
  return {
    scenario: s.name,
    isolates: n,
    requests: total,
    admitted,
    refused,
    "false refusals": `${falseRefusals} (${((100 * falseRefusals) / Math.max(1, refused)).toFixed(1)}% of refused)`,
    "units over the limit": over,
    "bound (sum of overshoots)": bound,
    "within bound": worst <= 0 ? "yes" : `no (+${worst})`,
    "redis cmds/request": +(commands / total).toFixed(4),
    "blocking round trips/request": +(blocking / total).toFixed(4),
  };
}

const cols = Object.keys(rows[0] ?? {});
const table = [
  `| ${cols.join(" | ")} |`,
  `|${cols.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${cols.map((c) => r[c]).join(" | ")} |`),
].join("\n");
console.log(table);
if (!values["no-docs"]) {
  const m = describeMachine();
  const src = describeSource(new URL("..", import.meta.url).pathname);
  writeFileSync(
    new URL("../docs/token-settlement.md", import.meta.url),
    `# Token settlement: replay

Written by \`npm run bench:tokens\` (${new Date().toISOString()}).

- command: \`npm run bench:tokens -- --minutes ${minutes} --isolates ${values.isolates}\`
- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}; redis-server ${m.redisServer}
- source: ${src.head}${src.dirty.length ? " (with uncommitted changes)" : ""}, src sha256 ${src.srcSha256}

One tenant with a limit of ${LIMIT} tokens per minute; ${minutes} simulated minutes per scenario through real
\`Limiter\`s (one per isolate, each request to a random isolate) and \`QuotaService.settle\` over the \`UpstashStore\`,
the local Upstash-compatible server and a private redis-server. A request reserves prompt (50-500) + max_tokens
(16-1024) tokens and stays in flight for 0-5 further requests; it then settles its actual usage: 10-100% of
max_tokens plus 90% of the prompt, or, for the overshoot share, up to 1,500 tokens past max_tokens.

- *units over the limit*: the sum over minute windows of what the store recorded past the limit, after the final
  flush (the replay checks that the store recorded exactly the admitted requests' actual usage in every window);
- *bound*: the sum over windows of the overshoots (actual - reserved) of the window's admitted requests; *within
  bound* checks every window;
- *false refusals*: refused requests that would have fit had every admitted request been charged its actual usage
  up front (the window's actual usage so far plus this request's actual usage within the limit). Reserving the
  estimate refuses these by design: the cost of never admitting past the limit on an estimate;
- *Redis commands* are what Redis executed (commands inside Lua scripts included, as Upstash bills them), final
  flush included; *blocking round trips* are decisions that waited for the store.

${table}
`,
  );
}
