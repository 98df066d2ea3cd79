// The outage drill's rig: a durable private redis-server, tools/upstash-local in front of it and the demo origin (in a
// worker thread), and two workerd gateways on the Upstash store; the faults (kill/restart Redis, stop/restart the
// Upstash server, slow it down); and what the drill reads back (breaker gauges, decision counters, Redis usage).
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { Redis as IORedis } from "ioredis";
import { grantPeriod } from "../../src/algorithms/limit-window.ts";
import { compileLimit } from "../../src/policy/compiled-policy.ts";
import { shardOf, usageKey } from "../../src/store/keys.ts";
import { buildWorker, type Isolates, startIsolates } from "../../tools/isolates.ts";
import { type RedisServer, startRedisServer } from "../../tools/redis-server.ts";
import type { ServicesRequest } from "./chaos-services.ts";

const root = resolve(import.meta.dirname, "..", "..");
const TOKEN = "chaos-upstash-token";
export const ADMIN_TOKEN = "chaos-admin-token-0123456789";

export const TIERS = ["open", "closed", "degraded"] as const;
export type Tier = (typeof TIERS)[number];

export interface DrillPolicy {
  limit: number;
  degradedShare: number;
  /** Tenant id -> tier, every scenario's tenants. */
  tenants: Record<string, Tier>;
}

/** Three tiers with the same per-minute limit, one per failure mode; the tenants are static entries. */
export function policyJson(p: DrillPolicy): string {
  const limits = [{ window: "minute", limit: p.limit }];
  return JSON.stringify({
    defaultTier: "open",
    tiers: {
      open: { limits, failure: "open" },
      closed: { limits, failure: "closed" },
      degraded: { limits, failure: "degraded", degradedShare: p.degradedShare },
    },
    tenants: Object.fromEntries(Object.entries(p.tenants).map(([id, tier]) => [id, { tier }])),
    identity: { header: { enabled: true } },
  });
}

/** A metric sample from /admin/metrics: the breaker gauge, decisions by reason, store calls and errors by operation. */
export interface GatewayReading {
  breakerOpen: boolean;
  decisions: Record<string, number>;
  storeCalls: Record<string, number>;
  storeErrors: Record<string, number>;
}

/** Sums a counter family's samples by one label. */
function byLabel(text: string, family: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${family}\\{([^}]*)\\} (\\d+)`, "gm"))) {
    const key = new RegExp(`${label}="([^"]+)"`).exec(m[1] ?? "")?.[1] ?? "?";
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The Upstash server and the origin in their worker thread; one request at a time. */
class Services {
  private readonly worker: Worker;
  readonly upstashUrl: string;
  readonly originUrl: string;

  private constructor(worker: Worker, upstashUrl: string, originUrl: string) {
    this.worker = worker;
    this.upstashUrl = upstashUrl;
    this.originUrl = originUrl;
  }

  static async start(redisUrl: string): Promise<Services> {
    const worker = new Worker(new URL("./chaos-services.ts", import.meta.url), {
      workerData: { redisUrl, token: TOKEN },
    });
    const [ready] = (await once(worker, "message")) as [{ upstashUrl: string; originUrl: string }];
    return new Services(worker, ready.upstashUrl, ready.originUrl);
  }

  async ask(m: ServicesRequest): Promise<void> {
    this.worker.postMessage(m);
    const [answer] = (await once(this.worker, "message")) as [{ error?: string }];
    if (answer.error) throw new Error(answer.error);
  }

  async close(): Promise<void> {
    await this.ask({ op: "close" }).catch(() => undefined);
    await this.worker.terminate();
  }
}

export class Rig {
  readonly gateways: Isolates;
  readonly redisPort: number;
  private redis: RedisServer | null;
  private readonly services: Services;
  private readonly dataDir: string;
  private readonly direct: IORedis;
  private readonly limit = compileLimit({ window: "minute", limit: 1 });

  private constructor(p: { gateways: Isolates; redis: RedisServer; services: Services; dataDir: string }) {
    this.gateways = p.gateways;
    this.redis = p.redis;
    this.redisPort = p.redis.port;
    this.services = p.services;
    this.dataDir = p.dataDir;
    // Fails fast while Redis is down: the drill reads usage only once it is back.
    this.direct = new IORedis(p.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.direct.on("error", () => {});
  }

  static async start(policy: DrillPolicy, log: (line: string) => void): Promise<Rig> {
    log("building the worker bundle (wrangler deploy --dry-run --outdir bench/.build)");
    const script = await buildWorker(join(root, "bench", ".build"));
    const dataDir = mkdtempSync(join(tmpdir(), "quotagate-chaos-redis-"));
    const redis = await startRedisServer({ dir: dataDir, durable: true });
    const services = await Services.start(redis.url);
    const gateways = await startIsolates(2, script, {
      ORIGIN_URL: services.originUrl,
      ADMIN_TOKEN,
      QUOTA_POLICY: policyJson(policy),
      UPSTASH_REDIS_REST_URL: services.upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
    });
    log(
      `redis-server ${redis.url} (append-only, fsync always, data in ${dataDir}); upstash-local ${services.upstashUrl}; ` +
        `origin ${services.originUrl}; gateways ${gateways.urls.join(" ")}`,
    );
    const rig = new Rig({ gateways, redis, services, dataDir });
    await rig.direct.connect();
    return rig;
  }

  /** Fault (a): redis-server dies by SIGKILL (no shutdown save; the append-only file has every write it answered). */
  async killRedis(): Promise<void> {
    await this.redis?.kill();
    this.redis = null;
  }

  /** Starts redis-server again on the same port and data directory; resolves once it answers PING. */
  async restartRedis(): Promise<void> {
    this.redis = await startRedisServer({ port: this.redisPort, dir: this.dataDir, durable: true });
  }

  /** Fault (b): the Upstash server stops as on SIGTERM (no new connections; in-flight requests get up to 2 s). */
  async stopUpstash(): Promise<void> {
    await this.services.ask({ op: "stop" });
  }

  /** Starts the Upstash server again on the same port; resolves once it listens. */
  async restartUpstash(): Promise<void> {
    await this.services.ask({ op: "start" });
  }

  /** Fault (c): every Upstash command request waits `ms` first (0: back to normal). */
  async setStoreDelay(ms: number): Promise<void> {
    const res = await fetch(`${this.services.upstashUrl}/__delay`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ms }),
    });
    if (res.status !== 200) throw new Error(`POST /__delay answered ${res.status}: ${await res.text()}`);
  }

  /** Breaker gauge and decision counters of gateway `i` (null when it did not answer within 2 s). */
  async reading(i: number): Promise<GatewayReading | null> {
    try {
      const res = await this.gateways.fetch(i, "/admin/metrics", {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(2_000),
      });
      const text = await res.text();
      if (res.status !== 200) return null;
      return {
        breakerOpen: /^quotagate_store_breaker_open 1$/m.test(text),
        decisions: byLabel(text, "quotagate_decisions_total", "reason"),
        storeCalls: byLabel(text, "quotagate_store_calls_total", "op"),
        storeErrors: byLabel(text, "quotagate_store_errors_total", "op"),
      };
    } catch {
      return null;
    }
  }

  /** The drain: every instance returns its leases and sends what it owes (POST /admin/quota/cache/clear). */
  async drain(): Promise<number[]> {
    return await Promise.all(
      this.gateways.urls.map(async (_, i) => {
        const res = await this.gateways.fetch(i, "/admin/quota/cache/clear", {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
  }

  /** Units Redis recorded for `tenant` in the minute that starts at `minuteStartMs`. */
  async recorded(tenant: string, minuteStartMs: number): Promise<number> {
    const periodId = grantPeriod(this.limit, minuteStartMs).id;
    const value = await this.direct.hget(usageKey(this.limit, periodId, shardOf(tenant)), tenant);
    return Number(value ?? 0);
  }

  async close(): Promise<void> {
    await this.gateways.dispose().catch(() => undefined);
    this.direct.disconnect();
    await this.services.close();
    await this.redis?.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
