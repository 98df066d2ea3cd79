// Measures what leases cost in Upstash commands (issue 4): a steady tenant far below its limits and a hot tenant
// far over them, replayed with a simulated clock through real Limiters, the UpstashStore, the local
// Upstash-compatible server and a private redis-server. Usage: npm run bench:leases [-- --minutes 60 --isolates 1,4]
// Prints the table and writes it, with the machine and the command, to docs/lease-costs.md (--no-docs: not).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createFakeClock } from "../src/core/clock.ts";
import { createLimiter, type Limiter } from "../src/limiter/limiter.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { compilePolicy } from "../src/policy/compiled-policy.ts";
import { defaultPolicy } from "../src/policy/default-policy.ts";
import { policySchema } from "../src/policy/policy-schema.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";
import { startRedisServer } from "../tools/redis-server.ts";
import { startUpstashLocal } from "../tools/upstash-local/server.ts";
import { describeMachine, describeSource } from "./lib/machine.ts";

const { values } = parseArgs({
  options: {
    "no-docs": { type: "boolean", default: false },
    minutes: { type: "string", default: "60" },
    isolates: { type: "string", default: "1,4" },
    json: { type: "boolean", default: false },
  },
});
const minutes = Number(values.minutes);
const isolateCounts = values.isolates.split(",").map(Number);
const policy = compilePolicy(policySchema.parse(defaultPolicy));

interface Scenario {
  name: string;
  tenant: string;
  tier: string;
  /** Requests per simulated second, all isolates together. */
  rps: number;
}

const scenarios: Scenario[] = [
  { name: "steady (enterprise, 20 req/s: 12% of 10,000/min)", tenant: "steady", tier: "enterprise", rps: 20 },
  {
    name: "steady (enterprise, 100 req/s: 60% of 10,000/min)",
    tenant: "steady100",
    tier: "enterprise",
    rps: 100,
  },
  { name: "hot (free, 50x its 100/min)", tenant: "hot", tier: "free", rps: (50 * 100) / 60 },
];

const redis = await startRedisServer();
const upstash = await startUpstashLocal({ redisUrl: redis.url, token: "bench" });
const rows: Array<Record<string, string | number>> = [];
try {
  for (const s of scenarios) {
    for (const n of isolateCounts) {
      const clock = createFakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
      const store = createUpstashStore({ url: upstash.url, token: "bench", timeoutMs: 5_000 });
      const limiters: Limiter[] = Array.from({ length: n }, () =>
        createLimiter({
          store,
          clock,
          metrics: new Metrics(),
          cacheSize: 10_000,
          cacheTtlMs: 60_000,
          storeTimeoutMs: 5_000,
        }),
      );
      const tenant = `${s.tenant}-${n}`;
      const plan = policy.plan(tenant, s.tier);
      // Warm-up outside the measurement: script load (the first EVALSHA misses) and the first grant.
      await limiters[0]!.decide(plan, { requests: 1 }, () => undefined);
      await limiters[0]!.flush({ returnAll: true });
      const before = await upstash.snapshot();
      const total = Math.round(s.rps * 60 * minutes);
      let allowed = 0;
      let denied = 0;
      let blocking = 0;
      let deniedBlocking = 0;
      const background: Promise<unknown>[] = [];
      const stepMs = 1000 / s.rps;
      const started = clock.now();
      let rng = 42;
      for (let i = 0; i < total; i++) {
        clock.set(Math.round(started + i * stepMs));
        rng = (rng * 1103515245 + 12345) % 2 ** 31;
        const d = await limiters[rng % n]!.decide(plan, { requests: 1 }, (p) => background.push(p));
        if (d.allowed) allowed++;
        else denied++;
        if (!d.local) {
          blocking++;
          if (!d.allowed) deniedBlocking++;
        }
        if (background.length) await Promise.all(background.splice(0));
        if (i % 20_000 === 0 && i > 0)
          process.stderr.write(`  ${s.tenant} x${n}: ${Math.round((i / total) * 100)}%\n`);
      }
      for (const l of limiters) await l.flush({ returnAll: true });
      const after = await upstash.snapshot();
      const commands = (after.redis_commands ?? 0) - (before.redis_commands ?? 0);
      const http = after.http_requests - before.http_requests;
      rows.push({
        scenario: s.name,
        isolates: n,
        requests: total,
        allowed,
        denied,
        "redis cmds/request": +(commands / total).toFixed(5),
        "http round trips/request": +(http / total).toFixed(5),
        "blocking round trips/request": +(blocking / total).toFixed(5),
        "redis cmds/denied request": denied ? +(commands / denied).toFixed(5) : "-",
        "blocking round trips/denied": denied ? +(deniedBlocking / denied).toFixed(5) : "-",
      });
    }
  }
} finally {
  await upstash.close();
  await redis.stop();
}
const cols = Object.keys(rows[0] ?? {});
const table = [
  `| ${cols.join(" | ")} |`,
  `|${cols.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${cols.map((c) => r[c]).join(" | ")} |`),
].join("\n");
if (values.json) console.log(JSON.stringify(rows, null, 2));
else console.log(table);
if (!values["no-docs"]) {
  const m = describeMachine();
  const src = describeSource(new URL("..", import.meta.url).pathname);
  const doc = `# Lease costs

What strict mode costs in Upstash commands, written by \`npm run bench:leases\` (${new Date().toISOString()}).

- command: \`npm run bench:leases -- --minutes ${minutes} --isolates ${values.isolates}\`
- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}; redis-server ${m.redisServer}
- source: ${src.head}${src.dirty.length ? " (with uncommitted changes)" : ""}, src sha256 ${src.srcSha256}

Each scenario replays ${minutes} simulated minutes with a fake clock through real \`Limiter\`s (one per isolate, each
request to a random isolate) over the \`UpstashStore\`, the local Upstash-compatible server and a private
redis-server, with the default policy. Background work (\`ctx.waitUntil\`: prefetches, flushes) completes
between requests, as it rides on requests in Workers. *Redis commands* are what Redis executed (INFO
\`total_commands_processed\` delta, commands inside Lua scripts included, as Upstash bills them), after a warm-up
request and including the final flush. *Blocking round trips* are decisions that waited for the store.

${table}
`;
  writeFileSync(new URL("../docs/lease-costs.md", import.meta.url), doc);
}
