// Configuration: env defaults, the bundled policy, QUOTA_POLICY replacing it, and one fixture per failure, each
// failing with a message that names the field.
import { describe, expect, it } from "vitest";
import { QuotaGateError } from "../core/errors.ts";
import { parseConfig } from "./config.ts";

const ORIGIN_URL = "https://api.example.com";
const minimal = (limits: unknown[] = [{ window: "minute", limit: 5 }]) => ({
  tiers: { basic: { limits } },
  defaultTier: "basic",
});
const withPolicy = (policy: unknown, env: Record<string, unknown> = {}) => ({
  ORIGIN_URL,
  QUOTA_POLICY: typeof policy === "string" ? policy : JSON.stringify(policy),
  ...env,
});

/** Parses and returns the thrown config error (failing the test when parsing succeeds). */
function configError(env: Record<string, unknown>): QuotaGateError {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(QuotaGateError);
    const e = err as QuotaGateError;
    expect(e.code).toBe("config_invalid");
    return e;
  }
  throw new Error("expected the configuration to be rejected");
}

const limitsOf = (tier: string, env: Record<string, unknown> = { ORIGIN_URL }) =>
  parseConfig(env)
    .policy.plan("t_1", tier)
    .limits.map((l) => [l.dimension, l.window, l.limit, l.mode, l.sync]);

describe("parseConfig: env", () => {
  it("applies the documented defaults", () => {
    const c = parseConfig({ ORIGIN_URL });
    expect(c.originUrl.href).toBe("https://api.example.com/");
    expect(c.upstash).toBeNull();
    expect(c.adminToken).toBeNull();
    expect(c.jwtSecret).toBeNull();
    expect(c.cacheTtlMs).toBe(60_000);
    expect(c.cacheSize).toBe(10_000);
    expect(c.enabled).toBe(true);
    expect(c.storeTimeoutMs).toBe(1_000);
  });

  it("coerces the string vars wrangler hands over", () => {
    const c = parseConfig({
      ORIGIN_URL,
      QUOTA_CACHE_TTL: "5",
      QUOTA_CACHE_SIZE: "200",
      ENABLE_QUOTA: "false",
      UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "tok",
      ADMIN_TOKEN: "0123456789abcdef",
    });
    expect(c.cacheTtlMs).toBe(5_000);
    expect(c.cacheSize).toBe(200);
    expect(c.enabled).toBe(false);
    expect(c.upstash).toEqual({ url: "https://eu1-x.upstash.io", token: "tok" });
    expect(c.adminToken).toBe("0123456789abcdef");
  });

  it("FAILURE_POLICY overrides the policy's failure for tiers that do not set one", () => {
    const c = parseConfig({ ORIGIN_URL, FAILURE_POLICY: "closed" });
    expect(c.policy.plan("t", "free").failure).toBe("closed");
    expect(parseConfig({ ORIGIN_URL }).policy.plan("t", "free").failure).toBe("open");
  });

  it("prices Upstash commands at the pay-as-you-go price unless UPSTASH_PRICE_PER_100K says otherwise", () => {
    expect(parseConfig({ ORIGIN_URL }).pricePer100kCommands).toBe(0.2);
    expect(parseConfig({ ORIGIN_URL, UPSTASH_PRICE_PER_100K: "0.4" }).pricePer100kCommands).toBe(0.4);
    expect(parseConfig({ ORIGIN_URL, UPSTASH_PRICE_PER_100K: "0" }).pricePer100kCommands).toBe(0);
    for (const bad of ["-1", "cheap", "5000"])
      expect(configError({ ORIGIN_URL, UPSTASH_PRICE_PER_100K: bad }).message).toContain(
        "UPSTASH_PRICE_PER_100K",
      );
  });
});

describe("parseConfig: the default policy", () => {
  it("requests and tokens per minute and per day for free, pro and enterprise; chat completions metered", () => {
    const minute = { kind: "fixed", unit: "minute" };
    const day = { kind: "fixed", unit: "day" };
    expect(limitsOf("free")).toEqual([
      ["requests", minute, 100, "enforce", "strict"],
      ["requests", day, 1_000, "enforce", "strict"],
      ["tokens", minute, 10_000, "enforce", "strict"],
      ["tokens", day, 100_000, "enforce", "strict"],
    ]);
    expect(limitsOf("pro")).toEqual([
      ["requests", minute, 1_000, "enforce", "strict"],
      ["requests", day, 100_000, "enforce", "strict"],
      ["tokens", minute, 100_000, "enforce", "strict"],
      ["tokens", day, 5_000_000, "enforce", "strict"],
    ]);
    expect(limitsOf("enterprise")).toEqual([
      ["requests", minute, 10_000, "enforce", "strict"],
      ["requests", day, 10_000_000, "enforce", "strict"],
      ["tokens", minute, 1_000_000, "enforce", "strict"],
      ["tokens", day, 100_000_000, "enforce", "strict"],
    ]);
    const c = parseConfig({ ORIGIN_URL });
    expect(c.policy.tierNames).toEqual(["free", "pro", "enterprise"]);
    expect(c.policy.policy.defaultTier).toBe("free");
    expect(c.policy.isExempt(c.policy.normalisePath("/health"))).toBe(true);
    expect(c.policy.route("POST", c.policy.normalisePath("/v1/chat/completions")).tokens?.dimension).toBe(
      "tokens",
    );
    expect(c.policy.route("GET", c.policy.normalisePath("/v1/chat/completions")).tokens).toBeUndefined();
  });

  it("an empty QUOTA_POLICY keeps the default", () => {
    expect(limitsOf("pro", { ORIGIN_URL, QUOTA_POLICY: "  " })).toHaveLength(4);
  });

  it("QUOTA_POLICY replaces it entirely", () => {
    const c = parseConfig(
      withPolicy({
        defaultTier: "basic",
        tiers: {
          basic: { limits: [{ dimension: "tokens", window: "sliding:1h", limit: 5_000, mode: "shadow" }] },
        },
      }),
    );
    expect(c.policy.tierNames).toEqual(["basic"]);
    expect(c.policy.hasTier("free")).toBe(false);
    expect(() => c.policy.plan("t", "free")).toThrow(/unknown tier "free"/);
    expect(c.policy.plan("t", "basic").limits).toEqual([
      {
        id: "tokens:sliding:1h",
        name: "tokens-sliding-1h",
        dimension: "tokens",
        window: { kind: "sliding", sizeMs: 3_600_000 },
        limit: 5_000,
        mode: "shadow",
        sync: "strict",
      },
    ]);
  });

  it("a token bucket's limit is its burst", () => {
    const c = parseConfig(withPolicy(minimal([{ window: "bucket:10/s,burst=25" }])));
    expect(c.policy.plan("t", "basic").limits[0]).toMatchObject({
      limit: 25,
      name: "requests-bucket-10-s-burst-25",
    });
  });
});

describe("parseConfig: concurrency and waiting", () => {
  it("compiles a tier's concurrency and queue rules into its plans; a tenant override replaces the concurrency", () => {
    const c = parseConfig(
      withPolicy({
        ...minimal(),
        tiers: {
          basic: {
            limits: [{ window: "minute", limit: 5 }],
            concurrency: 4,
            queue: { maxWaitSeconds: 30, defaultWaitSeconds: 5, weight: 2 },
          },
          plain: { limits: [{ window: "minute", limit: 5 }] },
        },
        tenants: { big: { tier: "basic", overrides: { concurrency: 40 } } },
      }),
    );
    expect(c.policy.plan("t", "basic")).toMatchObject({
      concurrency: 4,
      wait: { maxMs: 30_000, defaultMs: 5_000, maxDepth: 100, weight: 2 },
    });
    const big = c.policy.staticTenant("big")!;
    expect(c.policy.plan("big", big.tier, big.overrides).concurrency).toBe(40);
    const plain = c.policy.plan("t", "plain");
    expect(plain.concurrency).toBeUndefined();
    expect(plain.wait).toBeUndefined();
  });

  it("defaults: no origin cap, 30 s slot TTL, 5000 waiting requests per isolate, rechecks every second, round-robin order", () => {
    const p = parseConfig({ ORIGIN_URL }).policy.policy;
    expect(p.concurrency).toEqual({ slotTtlSeconds: 30 });
    expect(p.queue).toEqual({ maxDepth: 5_000, recheckMs: 1_000, order: "round-robin" });
  });
});

describe("parseConfig: every invalid configuration names its field", () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["bad JSON", withPolicy("{ tiers: "), "QUOTA_POLICY", /not valid JSON/],
    [
      "an unknown top-level key",
      withPolicy({ ...minimal(), tires: {} }),
      "QUOTA_POLICY",
      /Unrecognized key: "tires"/,
    ],
    [
      "an unknown key in a limit",
      withPolicy(minimal([{ window: "minute", limit: 5, limt: 3 }])),
      "QUOTA_POLICY.tiers.basic.limits.0",
      /Unrecognized key: "limt"/,
    ],
    [
      "a negative limit",
      withPolicy(minimal([{ window: "minute", limit: -1 }])),
      "QUOTA_POLICY.tiers.basic.limits.0.limit",
      /too small/i,
    ],
    [
      "a fractional limit",
      withPolicy(minimal([{ window: "minute", limit: 1.5 }])),
      "QUOTA_POLICY.tiers.basic.limits.0.limit",
      /expected int/,
    ],
    [
      "an unknown key in a tier's queue rules",
      withPolicy({
        ...minimal(),
        tiers: { basic: { limits: [{ window: "minute", limit: 5 }], queue: { maxWait: 5 } } },
      }),
      "QUOTA_POLICY.tiers.basic.queue",
      /Unrecognized key: "maxWait"/,
    ],
    [
      "a default wait above the tier's longest",
      withPolicy({
        ...minimal(),
        tiers: {
          basic: {
            limits: [{ window: "minute", limit: 5 }],
            queue: { maxWaitSeconds: 10, defaultWaitSeconds: 20 },
          },
        },
      }),
      "QUOTA_POLICY.tiers.basic.queue.defaultWaitSeconds",
      /must not exceed maxWaitSeconds/,
    ],
    [
      "a concurrency limit of 0",
      withPolicy({
        ...minimal(),
        tiers: { basic: { limits: [{ window: "minute", limit: 5 }], concurrency: 0 } },
      }),
      "QUOTA_POLICY.tiers.basic.concurrency",
      /too small/i,
    ],
    [
      "a fractional origin concurrency",
      withPolicy({ ...minimal(), concurrency: { origin: 2.5 } }),
      "QUOTA_POLICY.concurrency.origin",
      /expected int/,
    ],
    [
      "a slot TTL too short to renew",
      withPolicy({ ...minimal(), concurrency: { slotTtlSeconds: 1 } }),
      "QUOTA_POLICY.concurrency.slotTtlSeconds",
      /too small/i,
    ],
    [
      "an unknown key in the queue settings",
      withPolicy({ ...minimal(), queue: { depth: 5 } }),
      "QUOTA_POLICY.queue",
      /Unrecognized key: "depth"/,
    ],
    [
      "a bad window",
      withPolicy(
        minimal([
          { window: "minute", limit: 1 },
          { window: "fortnight", limit: 1 },
        ]),
      ),
      "QUOTA_POLICY.tiers.basic.limits.1.window",
      /window must be one of .*got "fortnight"/,
    ],
    [
      "an undefined defaultTier",
      withPolicy({ ...minimal(), defaultTier: "gold" }),
      "QUOTA_POLICY.defaultTier",
      /tier "gold" is not defined/,
    ],
    [
      "a limit missing for a non-bucket window",
      withPolicy(minimal([{ window: "hour" }])),
      "QUOTA_POLICY.tiers.basic.limits.0.limit",
      /required for this window/,
    ],
    [
      "a tier without limits",
      withPolicy({ defaultTier: "basic", tiers: { basic: { limits: [] } } }),
      "QUOTA_POLICY.tiers.basic.limits",
      /too small/i,
    ],
    [
      "a static tenant in an undefined tier",
      withPolicy({ ...minimal(), tenants: { t_1: { tier: "gold" } } }),
      "QUOTA_POLICY.tenants.t_1.tier",
      /tier "gold" is not defined/,
    ],
    [
      "a static tenant's new limit without an amount",
      withPolicy({
        ...minimal(),
        tenants: { t_1: { tier: "basic", overrides: { limits: [{ window: "day" }] } } },
      }),
      "QUOTA_POLICY.tenants.t_1.overrides.limits.0.limit",
      /required/,
    ],
    [
      "an IP tier that is not defined",
      withPolicy({ ...minimal(), identity: { ip: { enabled: true, tier: "anon" } } }),
      "QUOTA_POLICY.identity.ip.tier",
      /tier "anon" is not defined/,
    ],
    [
      "a route method in lower case",
      withPolicy({ ...minimal(), routes: [{ method: "get", path: "/x", cost: { requests: 2 } }] }),
      "QUOTA_POLICY.routes.0.method",
      /upper-case HTTP method/,
    ],
    [
      "a route pattern that no normalised path can match",
      withPolicy({ ...minimal(), routes: [{ path: "/v1//chat/", cost: { requests: 2 } }] }),
      "QUOTA_POLICY.routes.0.path",
      /"\/v1\/chat"/,
    ],
    [
      "an exempt pattern with ;params",
      withPolicy({ ...minimal(), exempt: ["/health", "/public;v=1/*"] }),
      "QUOTA_POLICY.exempt.1",
      /"\/public\/\*"/,
    ],
    [
      "an unknown encodedSlashes choice",
      withPolicy({ ...minimal(), paths: { encodedSlashes: "decode" } }),
      "QUOTA_POLICY.paths.encodedSlashes",
      /expected one of/,
    ],
    [
      "a typo in paths",
      withPolicy({ ...minimal(), paths: { caseSensitve: true } }),
      "QUOTA_POLICY.paths",
      /caseSensitve/,
    ],
    [
      "an API key naming a tenant in the IP namespace",
      withPolicy({
        ...minimal(),
        identity: { apiKey: { enabled: true, keys: { ["a".repeat(64)]: { tenant: "ip:203.0.113.7" } } } },
      }),
      `QUOTA_POLICY.identity.apiKey.keys.${"a".repeat(64)}.tenant`,
      /"ip:" prefix is reserved/,
    ],
    [
      "a static tenant in the IP namespace (any case)",
      withPolicy({ ...minimal(), tenants: { "IP:203.0.113.7": { tier: "basic" } } }),
      "QUOTA_POLICY.tenants.IP:203.0.113.7",
      /"ip:" prefix is reserved/,
    ],
    [
      "a JWT clock tolerance over 5 minutes",
      withPolicy({ ...minimal(), identity: { jwt: { clockToleranceSec: 3600 } } }),
      "QUOTA_POLICY.identity.jwt.clockToleranceSec",
      /too big/i,
    ],
    [
      "a CORS origin with a path",
      withPolicy({ ...minimal(), cors: { origins: ["https://app.example.com/"] } }),
      "QUOTA_POLICY.cors.origins.0",
      /write "https:\/\/app\.example\.com"/,
    ],
    [
      "a CORS wildcard with credentials",
      withPolicy({ ...minimal(), cors: { origins: ["*"], credentials: true } }),
      "QUOTA_POLICY.cors.credentials",
      /wildcard/,
    ],
    [
      "a CORS policy without origins",
      withPolicy({ ...minimal(), cors: { origins: [] } }),
      "QUOTA_POLICY.cors.origins",
      /too small/i,
    ],
    [
      "a typo in cors",
      withPolicy({ ...minimal(), cors: { origins: ["*"], maxAge: 5 } }),
      "QUOTA_POLICY.cors",
      /maxAge/,
    ],
    [
      "JWT enabled without JWT_SECRET",
      withPolicy({ ...minimal(), identity: { jwt: { enabled: true } } }),
      "JWT_SECRET",
      /required when QUOTA_POLICY.identity.jwt.enabled is true/,
    ],
    ["a missing ORIGIN_URL", {}, "ORIGIN_URL", /expected string/],
    ["an ORIGIN_URL that is not a URL", { ORIGIN_URL: "api.example.com" }, "ORIGIN_URL", /Invalid URL/],
    [
      "an ORIGIN_URL that is not http(s)",
      { ORIGIN_URL: "ftp://files.example.com" },
      "ORIGIN_URL",
      /Invalid URL/,
    ],
    ["a short ADMIN_TOKEN", { ORIGIN_URL, ADMIN_TOKEN: "hunter2" }, "ADMIN_TOKEN", /at least 16 characters/],
    ["a short JWT_SECRET", { ORIGIN_URL, JWT_SECRET: "s3cret" }, "JWT_SECRET", /at least 16 characters/],
    [
      "an Upstash URL without its token",
      { ORIGIN_URL, UPSTASH_REDIS_REST_URL: "https://x.upstash.io" },
      "UPSTASH_REDIS_REST_TOKEN",
      /go together/,
    ],
    ["a zero cache TTL", { ORIGIN_URL, QUOTA_CACHE_TTL: "0" }, "QUOTA_CACHE_TTL", /too small/i],
    [
      "a cache size that is not a number",
      { ORIGIN_URL, QUOTA_CACHE_SIZE: "lots" },
      "QUOTA_CACHE_SIZE",
      /number/,
    ],
    ["ENABLE_QUOTA=yes", { ORIGIN_URL, ENABLE_QUOTA: "yes" }, "ENABLE_QUOTA", /expected one of/],
    [
      "an unknown FAILURE_POLICY",
      { ORIGIN_URL, FAILURE_POLICY: "maybe" },
      "FAILURE_POLICY",
      /expected one of/,
    ],
  ])("%s", (_what, env, path, message) => {
    const e = configError(env);
    const issue = e.issues.find((i) => i.path === path);
    expect(issue, `issues: ${JSON.stringify(e.issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
    // The thrown message itself names the field, for logs.
    expect(e.message).toContain(`${path}: `);
  });

  it("lists every env issue at once", () => {
    const e = configError({ ORIGIN_URL: "nope", ADMIN_TOKEN: "short", QUOTA_CACHE_TTL: "-3" });
    expect(e.issues.map((i) => i.path).sort()).toEqual(["ADMIN_TOKEN", "ORIGIN_URL", "QUOTA_CACHE_TTL"]);
  });
});
