// Composition root: the only place that picks the store (Upstash when UPSTASH_REDIS_REST_URL is set, else memory)
// and wires the limiter, the plan resolver and the admin service into what the http layer is handed.
import { type Clock, systemClock, systemTimers, type Timers } from "./core/clock.ts";
import type { AppDeps } from "./http/app.ts";
import { AdminService } from "./limiter/admin-service.ts";
import { DenyList } from "./limiter/deny-list.ts";
import { createLimiter } from "./limiter/limiter.ts";
import { PlanResolver } from "./limiter/plan-resolver.ts";
import { createQuotaService } from "./limiter/quota-service.ts";
import { Activity } from "./metrics/activity.ts";
import { Metrics } from "./metrics/metrics.ts";
import { type Config, type GateConfig, parseConfig } from "./policy/config.ts";
import { createGate } from "./queue/admission.ts";
import { createMemoryStore } from "./store/memory/memory-store.ts";
import { meteredStore } from "./store/metered-store.ts";
import type { Store } from "./store/store.ts";
import { createUpstashStore } from "./store/upstash/upstash-store.ts";

export interface BuildOptions {
  clock?: Clock;
  /** Wake-ups of waiting requests and slot renewals (tests pass fake ones moved with the clock). */
  timers?: Timers;
  store?: Store;
}

/** Validates the env (throws naming the field) and builds what one isolate serves with. */
export function buildDeps(env: Record<string, unknown>, opts: BuildOptions = {}): AppDeps {
  const config = parseConfig(env);
  return { ...buildServices(config, opts), config };
}

/** Names the origin's slot set: the worker's origin URL, or the handlers behind the library middleware. */
function originId(config: GateConfig | Config): string {
  return "originUrl" in config ? config.originUrl.href.replace(/\/$/, "") : "app";
}

/** The services of one isolate for a gate configuration (the worker's, or a library user's). */
export function buildServices(config: GateConfig, opts: BuildOptions = {}): Omit<AppDeps, "config"> {
  const clock = opts.clock ?? systemClock;
  const metrics = new Metrics();
  const store = meteredStore(
    opts.store ??
      (config.upstash
        ? createUpstashStore({
            url: config.upstash.url,
            token: config.upstash.token,
            // The HTTP call outlives the limiter's wait: an answer that comes late is still read, so a grant the
            // store made after the request gave up is returned instead of stranding its units for the window.
            timeoutMs: 3 * config.storeTimeoutMs,
          })
        : createMemoryStore()),
    metrics,
  );
  const limiter = createLimiter({
    store,
    clock,
    metrics,
    cacheSize: config.cacheSize,
    cacheTtlMs: config.cacheTtlMs,
    storeTimeoutMs: config.storeTimeoutMs,
    probeIntervalMs: config.storeProbeIntervalMs,
  });
  const resolver = new PlanResolver({
    policy: config.policy,
    store,
    metrics,
    cacheTtlMs: config.cacheTtlMs,
    storeTimeoutMs: config.storeTimeoutMs,
    breaker: limiter.breaker,
  });
  const quota = createQuotaService(limiter, resolver, clock);
  const { concurrency, queue } = config.policy.policy;
  return {
    clock,
    metrics,
    quota,
    admin: new AdminService({ policy: config.policy, store, limiter, resolver, clock, metrics }),
    activity: new Activity({ metrics, clock }),
    deny: new DenyList({
      store,
      clock,
      metrics,
      cacheTtlMs: config.cacheTtlMs,
      storeTimeoutMs: config.storeTimeoutMs,
    }),
    gate: createGate({
      quota,
      store,
      clock,
      timers: opts.timers ?? systemTimers,
      metrics,
      storeTimeoutMs: config.storeTimeoutMs,
      origin: concurrency.origin === undefined ? null : { id: originId(config), limit: concurrency.origin },
      slotTtlMs: concurrency.slotTtlSeconds * 1000,
      maxDepth: queue.maxDepth,
      recheckMs: queue.recheckMs,
      order: queue.order,
      breaker: limiter.breaker,
    }),
  };
}
