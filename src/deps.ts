// Composition root: the only place that picks the store (Upstash when UPSTASH_REDIS_REST_URL is set, else memory).
import { type Clock, systemClock } from "./core/clock.ts";
import { createLimiter, type Limiter } from "./limiter/limiter.ts";
import { Metrics } from "./metrics/metrics.ts";
import { type Config, parseConfig } from "./policy/config.ts";
import { createMemoryStore } from "./store/memory/memory-store.ts";
import type { Store } from "./store/store.ts";
import { createUpstashStore } from "./store/upstash/upstash-store.ts";

export interface Deps {
  config: Config;
  store: Store;
  limiter: Limiter;
  metrics: Metrics;
  clock: Clock;
  startedAtMs: number;
}

export function buildDeps(
  env: Record<string, unknown>,
  overrides: { clock?: Clock; store?: Store } = {},
): Deps {
  const config = parseConfig(env);
  const clock = overrides.clock ?? systemClock;
  const metrics = new Metrics();
  const store =
    overrides.store ??
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
  return { config, store, limiter, metrics, clock, startedAtMs: clock.now() };
}
