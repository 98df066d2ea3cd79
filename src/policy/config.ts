// Worker configuration: the env (wrangler vars and secrets) and the quota policy, validated once per isolate.
// Any error names the field, e.g. `QUOTA_POLICY.tiers.free.limits.0.limit: Too small: expected number to be >0`.
import * as z from "zod";
import { type Issue, QuotaGateError } from "../core/errors.ts";
import { type CompiledPolicy, compilePolicy } from "./compiled-policy.ts";
import { defaultPolicy } from "./default-policy.ts";
import { policySchema } from "./policy-schema.ts";

/** Upstash's pay-as-you-go price of 100,000 commands in US dollars, as listed on 2026-12-01. */
export const UPSTASH_PAYG_PRICE_PER_100K = 0.2;

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const envSchema = z.object({
  ORIGIN_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }).optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16, "use at least 16 characters").optional(),
  JWT_SECRET: z.string().min(16, "use at least 16 characters").optional(),
  QUOTA_POLICY: z.string().optional(),
  /** Seconds a tenant's plan stays cached in an isolate. */
  QUOTA_CACHE_TTL: int(1, 86_400).default(60),
  /** Entries in the isolate cache (tenant plans, leases, denials). */
  QUOTA_CACHE_SIZE: int(10, 10_000_000).default(10_000),
  ENABLE_QUOTA: bool.default(true),
  /** Per-call timeout of a store round trip. */
  STORE_TIMEOUT_MS: int(10, 30_000).default(1_000),
  /** Failure policy for tiers that do not set one (overrides the policy's `failure`). */
  FAILURE_POLICY: z.enum(["open", "closed", "degraded"]).optional(),
  /** While the store is unreachable, how often one request probes it in the background (the recovery time). */
  STORE_PROBE_INTERVAL_MS: int(100, 60_000).default(1_000),
  /** US dollars per 100,000 Redis commands, for the cost estimates of stats, metrics and the dashboard. */
  UPSTASH_PRICE_PER_100K: z.coerce
    .number({ error: "must be a number of US dollars" })
    .min(0, "must be 0 or more")
    .max(1_000, "must be at most 1000")
    .default(UPSTASH_PAYG_PRICE_PER_100K),
});

export type Env = z.input<typeof envSchema>;

/** What the quota middleware needs, in the worker and in an app that uses it as a library. */
export interface GateConfig {
  upstash: { url: string; token: string } | null;
  jwtSecret: string | null;
  cacheTtlMs: number;
  cacheSize: number;
  enabled: boolean;
  storeTimeoutMs: number;
  storeProbeIntervalMs: number;
  /** US dollars per 100,000 Redis commands (cost estimates only). */
  pricePer100kCommands: number;
  policy: CompiledPolicy;
}

/** The worker's configuration: the gate's, plus the origin and the admin token. */
export interface Config extends GateConfig {
  originUrl: URL;
  adminToken: string | null;
}

/** zod's "Invalid key in record" carries the key's own issues: say what is wrong with the key. */
function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code !== "invalid_key" || issue.issues.length === 0) return issue.message;
  return `invalid key: ${issue.issues.map((i) => i.message).join("; ")}`;
}

function toIssues(prefix: string, error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
    message: messageOf(i),
  }));
}

function fail(issues: Issue[]): never {
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  throw new QuotaGateError("config_invalid", `invalid configuration: ${summary}`, { issues });
}

export function parseConfig(rawEnv: Record<string, unknown>): Config {
  const env = envSchema.safeParse(rawEnv);
  if (!env.success) fail(toIssues("", env.error));
  const e = env.data;
  if (Boolean(e.UPSTASH_REDIS_REST_URL) !== Boolean(e.UPSTASH_REDIS_REST_TOKEN)) {
    fail([
      {
        path: "UPSTASH_REDIS_REST_TOKEN",
        message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together",
      },
    ]);
  }

  let policyInput: unknown = defaultPolicy;
  if (e.QUOTA_POLICY !== undefined && e.QUOTA_POLICY.trim() !== "") {
    try {
      policyInput = JSON.parse(e.QUOTA_POLICY);
    } catch (err) {
      fail([{ path: "QUOTA_POLICY", message: `not valid JSON (${(err as Error).message})` }]);
    }
  }
  const policy = checkedPolicy(policyInput, "QUOTA_POLICY", e.FAILURE_POLICY, e.JWT_SECRET, "JWT_SECRET");

  return {
    originUrl: new URL(e.ORIGIN_URL),
    upstash:
      e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
        ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
        : null,
    adminToken: e.ADMIN_TOKEN ?? null,
    jwtSecret: e.JWT_SECRET ?? null,
    cacheTtlMs: e.QUOTA_CACHE_TTL * 1000,
    cacheSize: e.QUOTA_CACHE_SIZE,
    enabled: e.ENABLE_QUOTA,
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    storeProbeIntervalMs: e.STORE_PROBE_INTERVAL_MS,
    pricePer100kCommands: e.UPSTASH_PRICE_PER_100K,
    policy,
  };
}

/** Validates and compiles a policy; `failure` replaces its default failure policy; JWT identification needs a
 * secret. Issues are reported under `where` (and `secretName` for the missing secret). */
export function checkedPolicy(
  input: unknown,
  where: string,
  failure: "open" | "closed" | "degraded" | undefined,
  jwtSecret: string | undefined,
  secretName: string,
): CompiledPolicy {
  const policy = policySchema.safeParse(input);
  if (!policy.success) fail(toIssues(where, policy.error));
  const p = failure ? { ...policy.data, failure } : policy.data;
  if (p.identity.jwt.enabled && !jwtSecret) {
    fail([{ path: secretName, message: `required when ${where}.identity.jwt.enabled is true` }]);
  }
  return compilePolicy(p);
}

export { fail as configFailure, toIssues as configIssues };
