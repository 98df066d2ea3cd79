// Composition root: the only place that picks the store (Upstash when UPSTASH_REDIS_REST_URL is set, else memory)
// and wires the limiter, the plan resolver and the admin service into what the http layer is handed.
import { type Clock, systemClock, systemTimers, type Timers } from "./core/clock.ts";
import type { AppDeps } from "./http/app.ts";
import { AdminService } from "./limiter/admin-service.ts";
import { createLimiter } from "./limiter/limiter.ts";
import { PlanResolver } from "./limiter/plan-resolver.ts";
import { createQuotaService } from "./limiter/quota-service.ts";
import { Metrics } from "./metrics/metrics.ts";
import { parseConfig } from "./policy/config.ts";
import { createGate } from "./queue/admission.ts";
import { createMemoryStore } from "./store/memory/memory-store.ts";
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
  const clock = opts.clock ?? systemClock;
  const metrics = new Metrics();
  const store =
    opts.store ??
    (config.upstash
      ? createUpstashStore({
          url: config.upstash.url,
          token: config.upstash.token,
          timeoutMs: config.storeTimeoutMs,
        })
      : createMemoryStore());
  const limiter = createLimiter({
    store,
    clock,
    metrics,
    cacheSize: config.cacheSize,
    cacheTtlMs: config.cacheTtlMs,
    storeTimeoutMs: config.storeTimeoutMs,
  });
  const resolver = new PlanResolver({
    policy: config.policy,
    store,
    metrics,
    cacheTtlMs: config.cacheTtlMs,
    storeTimeoutMs: config.storeTimeoutMs,
  });
  const quota = createQuotaService(limiter, resolver, clock);
  const { concurrency, queue } = config.policy.policy;
  return {
    config,
    clock,
    metrics,
    quota,
    admin: new AdminService({ policy: config.policy, store, limiter, resolver, clock, metrics }),
    gate: createGate({
      quota,
      store,
      clock,
      timers: opts.timers ?? systemTimers,
      metrics,
      storeTimeoutMs: config.storeTimeoutMs,
      origin:
        concurrency.origin === undefined
          ? null
          : { id: config.originUrl.href.replace(/\/$/, ""), limit: concurrency.origin },
      slotTtlMs: concurrency.slotTtlSeconds * 1000,
      maxDepth: queue.maxDepth,
      recheckMs: queue.recheckMs,
    }),
  };
}
