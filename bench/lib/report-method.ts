// The "How it is measured" section of docs/benchmarks.md.
export const METHOD = `## How it is measured

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
