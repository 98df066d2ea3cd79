// Worker configuration: the env (wrangler vars and secrets) and the quota policy, validated once per isolate.
// Any error names the field, e.g. `QUOTA_POLICY.tiers.free.limits.0.limit: Too small: expected number to be >0`.
import * as z from "zod";
import { type Issue, QuotaGateError } from "../core/errors.ts";
import { type CompiledPolicy, compilePolicy } from "./compiled-policy.ts";
import { defaultPolicy } from "./default-policy.ts";
import { policySchema } from "./policy-schema.ts";

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
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  originUrl: URL;
  upstash: { url: string; token: string } | null;
  adminToken: string | null;
  jwtSecret: string | null;
  cacheTtlMs: number;
  cacheSize: number;
  enabled: boolean;
  storeTimeoutMs: number;
  storeProbeIntervalMs: number;
  policy: CompiledPolicy;
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
  const policy = policySchema.safeParse(policyInput);
  if (!policy.success) fail(toIssues("QUOTA_POLICY", policy.error));
  const p = e.FAILURE_POLICY ? { ...policy.data, failure: e.FAILURE_POLICY } : policy.data;
  if (p.identity.jwt.enabled && !e.JWT_SECRET) {
    fail([{ path: "JWT_SECRET", message: "required when QUOTA_POLICY.identity.jwt.enabled is true" }]);
  }

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
    policy: compilePolicy(p),
  };
}
