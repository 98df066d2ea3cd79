// Live benchmark: the real worker bundle in K workerd instances (Miniflare), in front of the demo origin, with the
// local Upstash server over redis-server; autocannon spreads its connections round-robin over the instances.
import { once } from "node:events";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";
import { buildWorker, startIsolates } from "../../tools/isolates.ts";
import { startRedisServer } from "../../tools/redis-server.ts";

export const LIVE_VARIANTS = [
  "plain-proxy",
  "quotagate-memory",
  "quotagate-strict",
  "quotagate-async",
] as const;
export type LiveVariant = (typeof LIVE_VARIANTS)[number];

export interface LiveOptions {
  seconds: number;
  instances: number[];
  root: string;
  /** Open connections, all instances together (a multiple of every instance count). */
  connections?: number;
  /** Tenants the load rotates over (X-Tenant-ID). */
  tenants?: number;
  /** Measured slices per variant, alternating the variant order (default 4: A B C D, D C B A, A B C D, D C B A). */
  slices?: number;
}

export interface LiveRow {
  variant: LiveVariant;
  instances: number;
  connections: number;
  seconds: number;
  requests: number;
  /** Mean requests per second over the measured seconds. */
  throughput: number;
  /** Requests per second of each measured slice, in run order. */
  sliceThroughputs: number[];
  /** Latency percentiles: per slice from autocannon, averaged over slices weighted by requests. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  /** Throughput relative to the plain proxy with the same instance count. */
  relativeThroughput: number;
  /** Redis commands and HTTP round trips to the Upstash server per request (strict/async only). */
  redisCommandsPerRequest: number | null;
  upstashHttpPerRequest: number | null;
  originRequests: number;
  /** A single request before the load got 200 with RateLimit headers (quotagate) or without (plain proxy). */
  probeOk: boolean;
}

export interface LiveResult {
  connections: number;
  tenants: number;
  slices: number;
  policy: unknown;
  rows: LiveRow[];
  wallMs: number;
}

const TOKEN = "bench-live-token";
const ADMIN = "bench-live-admin-token";

/** Limits far above what the load reaches: the live run measures the cost of deciding, not of denying. */
function livePolicy(sync: "strict" | "async") {
  return {
    defaultTier: "bench",
    tiers: {
      bench: {
        limits: [
          { window: "minute", limit: 10_000_000, sync },
          { window: "day", limit: 1_000_000_000, sync },
        ],
      },
    },
    identity: { header: { enabled: true } },
  };
}

class Services {
  private readonly worker: Worker;
  upstashUrl = "";
  originUrl = "";
  private constructor(worker: Worker) {
    this.worker = worker;
  }
  static async start(redisUrl: string): Promise<Services> {
    const worker = new Worker(new URL("./live-services.ts", import.meta.url), {
      workerData: { redisUrl, token: TOKEN },
    });
    const s = new Services(worker);
    const [ready] = (await once(worker, "message")) as [{ upstashUrl: string; originUrl: string }];
    s.upstashUrl = ready.upstashUrl;
    s.originUrl = ready.originUrl;
    return s;
  }
  async ask<T>(op: "reset" | "snapshot" | "close"): Promise<T> {
    this.worker.postMessage({ op });
    const [answer] = (await once(this.worker, "message")) as [T & { error?: string }];
    if (answer.error) throw new Error(answer.error);
    return answer;
  }
  async close(): Promise<void> {
    await this.ask("close");
    await this.worker.terminate();
  }
}

function load(urls: string[], connections: number, seconds: number, tenantPrefix: string, tenants: number) {
  let next = 0;
  return autocannon({
    url: urls.map((u) => `${u}/bench/item`),
    connections,
    duration: seconds,
    requests: [
      {
        method: "GET",
        setupRequest: (req) => {
          next = (next + 1) % tenants;
          return { ...req, headers: { ...req.headers, "x-tenant-id": `${tenantPrefix}-${next}` } };
        },
      },
    ],
  });
}

interface Slice {
  requests: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  redisCommands: number;
  upstashHttp: number;
  originRequests: number;
}

export async function runLive(opts: LiveOptions): Promise<LiveResult> {
  const started = performance.now();
  const connections = opts.connections ?? 16;
  const tenants = opts.tenants ?? 100;
  const slices = Math.max(1, opts.slices ?? 4);
  const sliceSeconds = Math.max(1, opts.seconds / slices);
  console.log("live: building the worker bundle (wrangler deploy --dry-run --outdir bench/.build)");
  const script = await buildWorker(join(opts.root, "bench", ".build"));
  const redis = await startRedisServer();
  const services = await Services.start(redis.url);
  const rows: LiveRow[] = [];
  try {
    for (const k of opts.instances) {
      if (connections % k !== 0)
        throw new Error(`live: ${connections} connections do not split over ${k} instances`);
      // Every variant's instances are up at once (idle ones cost next to nothing), so the measured slices can
      // alternate between variants: A B C D, then D C B A, which cancels a linear drift of the machine.
      const up = new Map<LiveVariant, Awaited<ReturnType<typeof startIsolates>>>();
      try {
        for (const variant of LIVE_VARIANTS)
          up.set(variant, await startIsolates(k, script, bindingsFor(variant, services)));
        const probeOk = new Map<LiveVariant, boolean>();
        for (const [variant, iso] of up) {
          const prefix = `${variant}-${k}`;
          // One probe per instance: quotagate answers with RateLimit headers, the plain proxy without.
          const probes = await Promise.all(
            iso.urls.map(async (u) => {
              const res = await fetch(`${u}/bench/probe`, { headers: { "x-tenant-id": `${prefix}-probe` } });
              await res.arrayBuffer();
              return { status: res.status, policy: res.headers.get("ratelimit-policy") };
            }),
          );
          const ok = probes.every(
            (p) => p.status === 200 && (p.policy !== null) === (variant !== "plain-proxy"),
          );
          if (!ok) console.warn(`live: ${variant} x${k} probe unexpected: ${JSON.stringify(probes)}`);
          probeOk.set(variant, ok);
          console.log(`live x${k}: warming up ${variant} (2 s)`);
          await load(iso.urls, connections, 2, prefix, tenants);
        }
        const measured = new Map<LiveVariant, Slice[]>(LIVE_VARIANTS.map((v) => [v, []]));
        for (let s = 0; s < slices; s++) {
          const order = s % 2 === 0 ? [...LIVE_VARIANTS] : [...LIVE_VARIANTS].reverse();
          for (const variant of order) {
            const iso = up.get(variant)!;
            const before = await services.ask<{ originRequests: number }>("reset");
            const r = await load(iso.urls, connections, sliceSeconds, `${variant}-${k}`, tenants);
            const snap = await services.ask<{
              redis_commands: number | null;
              http_requests: number;
              originRequests: number;
            }>("snapshot");
            measured.get(variant)!.push({
              requests: r.requests.total,
              seconds: sliceSeconds,
              p50: r.latency.p50,
              p90: r.latency.p90,
              p99: r.latency.p99,
              max: r.latency.max,
              non2xx: r.non2xx,
              errors: r.errors + r.timeouts,
              redisCommands: snap.redis_commands ?? Number.NaN,
              upstashHttp: snap.http_requests,
              originRequests: snap.originRequests - before.originRequests,
            });
            console.log(
              `live x${k} slice ${s + 1}/${slices} ${variant}: ${Math.round(r.requests.total / sliceSeconds)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}`,
            );
          }
        }
        for (const variant of LIVE_VARIANTS) {
          const xs = measured.get(variant)!;
          const n = xs.reduce((a, x) => a + x.requests, 0);
          const secs = xs.reduce((a, x) => a + x.seconds, 0);
          const weighted = (f: (x: Slice) => number) => xs.reduce((a, x) => a + f(x) * x.requests, 0) / n;
          const remote = variant === "quotagate-strict" || variant === "quotagate-async";
          rows.push({
            variant,
            instances: k,
            connections,
            seconds: secs,
            requests: n,
            throughput: n / secs,
            sliceThroughputs: xs.map((x) => Math.round(x.requests / x.seconds)),
            p50Ms: weighted((x) => x.p50),
            p90Ms: weighted((x) => x.p90),
            p99Ms: weighted((x) => x.p99),
            maxMs: Math.max(...xs.map((x) => x.max)),
            non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
            errors: xs.reduce((a, x) => a + x.errors, 0),
            relativeThroughput: 0,
            redisCommandsPerRequest: remote ? xs.reduce((a, x) => a + x.redisCommands, 0) / n : null,
            upstashHttpPerRequest: remote ? xs.reduce((a, x) => a + x.upstashHttp, 0) / n : null,
            originRequests: xs.reduce((a, x) => a + x.originRequests, 0),
            probeOk: probeOk.get(variant)!,
          });
        }
      } finally {
        for (const iso of up.values()) await iso.dispose();
      }
    }
  } finally {
    await services.close();
    await redis.stop();
  }
  for (const row of rows) {
    const plain = rows.find((r) => r.variant === "plain-proxy" && r.instances === row.instances);
    row.relativeThroughput = plain ? row.throughput / plain.throughput : Number.NaN;
  }
  return {
    connections,
    tenants,
    slices,
    policy: livePolicy("strict"),
    rows,
    wallMs: Math.round(performance.now() - started),
  };
}

function bindingsFor(variant: LiveVariant, services: Services): Record<string, string> {
  const bindings: Record<string, string> = {
    ORIGIN_URL: services.originUrl,
    ADMIN_TOKEN: ADMIN,
    QUOTA_POLICY: JSON.stringify(livePolicy(variant === "quotagate-async" ? "async" : "strict")),
  };
  if (variant === "plain-proxy") bindings.ENABLE_QUOTA = "false";
  if (variant === "quotagate-strict" || variant === "quotagate-async") {
    bindings.UPSTASH_REDIS_REST_URL = services.upstashUrl;
    bindings.UPSTASH_REDIS_REST_TOKEN = TOKEN;
  }
  return bindings;
}
