// Options of the `quota` middleware used as a library in an existing Hono app: typed counterparts of the worker's
// settings, validated by the same rules (an error names the option, e.g. `policy.tiers.free.limits.0.limit`).
import * as z from "zod";
import type { Clock } from "../core/clock.ts";
import { checkedPolicy, configFailure, configIssues, envSchema, type GateConfig } from "./config.ts";
import { defaultPolicy } from "./default-policy.ts";
import type { PolicyInput } from "./policy-schema.ts";

export interface QuotaOptions {
  /** The quota policy (tiers, limits, routes, identification); default: the bundled policy. */
  policy?: PolicyInput;
  /** Upstash REST URL and token; absent: the embedded memory store (exact for one isolate only). */
  upstash?: { url: string; token: string };
  /** Seconds a tenant's plan (and the deny list) is trusted in an isolate. Default 60. */
  cacheTtlSeconds?: number;
  /** Tenant books held in the isolate cache. Default 10,000. */
  cacheSize?: number;
  /** Per-call timeout of a store round trip. Default 1,000 ms. */
  storeTimeoutMs?: number;
  /** While the store is unreachable, how often one request probes it in the background. Default 1,000 ms. */
  storeProbeIntervalMs?: number;
  /** Failure policy of tiers that do not set their own (replaces the policy's `failure`). */
  failurePolicy?: "open" | "closed" | "degraded";
  /** HS256 secret of JWT identification (required when the policy enables it). */
  jwtSecret?: string;
  /** false: every request passes unchecked. Default true. */
  enabled?: boolean;
  /** The time source (tests drive it; default: the system clock). */
  clock?: Clock;
}

const env = envSchema.shape;

const optionsSchema = z.strictObject({
  policy: z.unknown().optional(),
  upstash: z
    .strictObject({ url: env.UPSTASH_REDIS_REST_URL.unwrap(), token: env.UPSTASH_REDIS_REST_TOKEN.unwrap() })
    .optional(),
  cacheTtlSeconds: env.QUOTA_CACHE_TTL,
  cacheSize: env.QUOTA_CACHE_SIZE,
  storeTimeoutMs: env.STORE_TIMEOUT_MS,
  storeProbeIntervalMs: env.STORE_PROBE_INTERVAL_MS,
  failurePolicy: env.FAILURE_POLICY,
  jwtSecret: env.JWT_SECRET,
  enabled: z.boolean().default(true),
  clock: z
    .custom<Clock>((c) => typeof (c as Clock | null)?.now === "function", "needs a now() method")
    .optional(),
});

/** Validates the options (throws config_invalid naming every bad option) into what the gate is built from. */
export function parseQuotaOptions(options: QuotaOptions): GateConfig {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) configFailure(configIssues("", parsed.error));
  const o = parsed.data;
  return {
    upstash: o.upstash ?? null,
    jwtSecret: o.jwtSecret ?? null,
    cacheTtlMs: o.cacheTtlSeconds * 1000,
    cacheSize: o.cacheSize,
    enabled: o.enabled,
    storeTimeoutMs: o.storeTimeoutMs,
    storeProbeIntervalMs: o.storeProbeIntervalMs,
    pricePer100kCommands: env.UPSTASH_PRICE_PER_100K.parse(undefined),
    policy: checkedPolicy(o.policy ?? defaultPolicy, "policy", o.failurePolicy, o.jwtSecret, "jwtSecret"),
  };
}
