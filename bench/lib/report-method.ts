// The "How it is measured" section of docs/benchmarks.md.
export const METHOD = `## How it is measured

\`npm run bench\` (options: \`--workloads\`, \`--isolates\`, \`--variants\`, \`--scale\`, \`--full\`, \`--tick-ms\`,
\`--seed\`, \`--jobs\`, \`--live\`/\`--no-live\`, \`--no-replay\`, \`--live-seconds\`, \`--live-instances\`,
\`--live-slices\`, \`--cold-starts\`, \`--no-docs\`; \`npm run bench -- --help\`). By default every workload is
replayed over 1, 4, 8, 16 and 64 isolates, except far-below (64 only), at \`--scale 0.01\`, which leaves every
workload at its minimum length (2 simulated minutes; far-below 5); then the cold start and the live run.
WALLTIME \`--full\` replays the whole durations and takes hours. The replay prints its progress (share of
requests replayed, a rough time left, the runs under way) every 3 s. Each run writes
\`bench/results/<timestamp>.md\` and \`.json\` (every figure, per-command Redis counts included) and rewrites this
file.

**Replay (engine level, simulated clock).** Every (workload, isolate count, variant) run starts its own private
\`redis-server\` and local Upstash REST server (\`tools/upstash-local\`). N isolates are N independent limiter
instances (each with its own HTTP client) sharing that store; each request goes to a random isolate (seeded, the
same for every variant). All variants see the same request sequence. Requests whose arrival falls in the same
simulated tick (\`--tick-ms\`, 50 ms by default: a store round trip) are in flight together; all their decisions and
the work they handed to \`waitUntil\` finish before the next tick, so flushes ride on requests as in Workers. Runs
execute \`--jobs\` at a time (default: one per core), each in its own worker thread with its own servers. The
workloads are described with the results; *far-below* is the long tail at edge fan-out: 10,000 tenants on a
40/minute + 10,000/day tier, each sending Poisson traffic at its own seeded rate of 1-10 % of its per-minute limit
(about 22,000 requests a minute in all), over at least 5 simulated minutes (about 110,000 requests), each request
on a random one of 64 isolates, so an isolate rarely sees the same tenant twice in a minute and nothing is denied.

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
- *Floor* = distinct (tenant, isolate, minute) triples that saw traffic, per request: a lease cannot outlive its
  window and one acquire covers all of a request's limits, so an isolate that holds allowances needs at least one
  exchange per tenant and minute it serves. *Exchanges* (exch) = quotagate's \`acquire\` calls to the store, on the
  request path or prefetched, per request and as a multiple of the floor.
- *Commands per exchange* (quotagate only): round trips to the local Upstash server go one at a time (in the order
  they were issued: a valid order for requests in flight together, and the decisions and commands come out the same)
  and the replay reads Redis's \`total_commands_processed\` on a connection of its own after each, so every Redis
  command is attributed to the round trip that caused it (those reads are taken out of the totals; a check in the
  report flags any command left unattributed). Round trips are told apart by what they carry: *acquire* (the
  acquire script by SHA-1, or by source after \`NOSCRIPT\`) or *flush* (the adjust script for owed deltas, the fleet
  stats' \`HINCRBY\`s and \`EXPIRE\`). *cmds/exch* = commands of the acquire round trips (\`EVALSHA\` plus the
  script's inner commands) / acquire calls; *flush cmds/req* = commands of the flush round trips / requests, shown
  with the number of flushes. On the hot workload, *commands per denied request* = every command except those of
  acquires whose reply granted (flushes included, so an upper bound) / denied requests; the refused acquires'
  commands alone are shown next to it.
- *Cache per tenant* = \`limiter.cache.byteSize\` over the (isolate, tenant) pairs it holds, shown as entries per
  tenant x \`byteSize / size\` (the cache's own size estimate, not a heap measurement), over all isolates at the
  end of the replay, before the final flush.
- quotagate strict and async are checked after the final \`flush({returnAll: true})\`: the units recorded in Redis
  must equal the admitted units (no admitted unit is lost).

Variants:

- **naive**: the classic per-request limiter: per request and window, \`INCR\`, plus \`EXPIRE\` when the count is 1, one command
  per round trip (\`@upstash/redis\`, auto-pipelining off, like the Python original). Denied requests count too.
  It holds no per-isolate state, so it runs once per workload and its figures are repeated for other N.
  Its keys (and seed-sync's) name their minute or day and get TTLs of an hour and two days rather than the seed's
  60 s and one day: TTLs run in wall time, a simulated minute may take longer than a wall minute on a busy
  machine, and the longer TTL changes no decision and no command count.
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

**Cold start.** The bundle is built with \`wrangler deploy --dry-run --outdir <tmp>\` (a fresh folder under
\`bench/.build\`); its modules (\`.js\`/\`.mjs\`/\`.wasm\`, not the source map nor wrangler's README) are reported raw and
gzipped (zlib level 9), with wrangler's own "Total Upload" line. Then \`--cold-starts\` (default 5) fresh workerd
instances (Miniflare, loopback only) of the bundle, with the Upstash store configured at a port nobody listens on
(\`/health\` never reaches it), alternate with as many instances of a worker that only answers "ok": for each, the
time from \`new Miniflare(...)\` to \`ready\` (workerd up, the bundle loaded and its top level run: the worker
validates its configuration and builds its dependencies there) and to the body of the first \`GET /health\`.
Medians are reported; the baseline shows what workerd itself costs, the difference what the bundle adds.

**Targets.** The report checks, per (workload, N) row of quotagate-strict: over-admission 0; shortfall at most 1 %
of the units admitted; *never dearer*: Redis commands per request at most the cheaper of naive and
\`@upstash/ratelimit\` fixed window at the same N; *goal*: at most half the cheapest of naive, ratelimit fixed and
seed-sync; at most 3 commands per exchange (the policies replayed are all minute + day, like the default policy);
far-below at 64 isolates at most 0.05 commands per request; hot at most 0.01 commands per denied request; and,
live, quotagate with 1 instance at least 0.95x the plain proxy's throughput. A target the run has no row for
(e.g. no naive run) is left unjudged, never passed.

**Caveats.** Loopback HTTP to an in-process server is far faster than Upstash over the internet, so wall times and
live latencies say little about production; commands, round trips and admission counts do not depend on it.
Default runs replay a short slice (\`--scale\`); \`--full\` replays the whole durations (3 simulated hours for seed
002).`;
