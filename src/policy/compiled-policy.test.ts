// The compiled policy: route pricing, exempt routes, `*` patterns, plans and per-tenant override merging.
import { describe, expect, it } from "vitest";
import { compilePathPattern, compilePolicy } from "./compiled-policy.ts";
import { type PolicyInput, policySchema } from "./policy-schema.ts";

const compile = (input: PolicyInput) => compilePolicy(policySchema.parse(input));

const policy = compile({
  defaultTier: "free",
  tiers: {
    free: {
      limits: [
        { window: "minute", limit: 100 },
        { window: "day", limit: 1_000 },
        { dimension: "tokens", window: "day", limit: 50_000, name: "tokens-daily" },
      ],
    },
    closed: { limits: [{ window: "second", limit: 5 }], failure: "closed" },
  },
  routes: [
    { method: "POST", path: "/v1/chat/*", cost: { requests: 1, tokens: 40 } },
    { path: "/v1/chat/*", cost: { requests: 2 } },
    { method: "GET", path: "/v1/reports/*/export", cost: { requests: 10 } },
    { path: "/v1/free", cost: { requests: 0 } },
    { path: "/v1/embed", cost: { tokens: 8 } },
  ],
  exempt: ["/health", "/static/*", "/v1/file.json"],
});

const price = (method: string, path: string) => policy.price(method, policy.normalisePath(path));

describe("compilePathPattern", () => {
  it("`*` matches any run of characters, slashes included; the rest is literal and anchored", () => {
    const re = compilePathPattern("/v1/*/items");
    expect(re.test("/v1/a/items")).toBe(true);
    expect(re.test("/v1/a/b/c/items")).toBe(true);
    expect(re.test("/v1//items")).toBe(true);
    expect(re.test("/v1/a/items/x")).toBe(false);
    expect(re.test("/x/v1/a/items")).toBe(false);
  });

  it("escapes regex metacharacters", () => {
    const re = compilePathPattern("/a.b/(c)+?/$x");
    expect(re.test("/a.b/(c)+?/$x")).toBe(true);
    expect(re.test("/aXb/(c)+?/$x")).toBe(false);
    expect(re.test("/a.b/cc/$x")).toBe(false);
  });
});

describe("price", () => {
  it("uses the first matching rule", () => {
    expect(price("POST", "/v1/chat/completions")).toEqual({ requests: 1, tokens: 40 });
    expect(price("GET", "/v1/chat/completions")).toEqual({ requests: 2 });
  });

  it("matches the method exactly (`*` is any method)", () => {
    expect(price("GET", "/v1/reports/2026/export")).toEqual({ requests: 10 });
    expect(price("POST", "/v1/reports/2026/export")).toEqual({ requests: 1 });
    expect(price("DELETE", "/v1/chat/x")).toEqual({ requests: 2 });
  });

  it("costs 1 request when no rule matches, and a rule may make a route free", () => {
    expect(price("GET", "/v1/other")).toEqual({ requests: 1 });
    expect(price("GET", "/v1/reports/2026/export.csv")).toEqual({ requests: 1 });
    expect(price("GET", "/v1/free")).toEqual({ requests: 0 });
  });

  it("keeps the default request unless the rule prices requests itself", () => {
    expect(price("POST", "/v1/embed")).toEqual({ requests: 1, tokens: 8 });
  });
});

describe("matching on the normalised path", () => {
  it("prices a path however it is spelled: escapes, case, duplicate slashes, dot segments, ;params, trailing /", () => {
    for (const path of [
      "/v1/%63hat/completions",
      "/V1/CHAT/completions",
      "/v1/chat//completions",
      "/v1/x/../chat/./completions",
      "/v1/chat/completions;x",
      "/v1;a/chat;b/completions/",
    ]) {
      expect(price("POST", path), path).toEqual({ requests: 1, tokens: 40 });
    }
    expect(price("post", "/v1/chat/completions")).toEqual({ requests: 1, tokens: 40 });
  });

  it("compares case when the policy says so", () => {
    const sensitive = compile({
      tiers: { free: { limits: [{ window: "minute", limit: 1 }] } },
      routes: [{ path: "/v1/Chat/*", cost: { tokens: 5 } }],
      exempt: ["/Health"],
      paths: { caseSensitive: true },
    });
    const at = (p: string) => sensitive.normalisePath(p);
    expect(sensitive.price("GET", at("/v1/Chat/x"))).toEqual({ requests: 1, tokens: 5 });
    expect(sensitive.price("GET", at("/v1/chat/x"))).toEqual({ requests: 1 });
    expect(sensitive.isExempt(at("/Health"))).toBe(true);
    expect(sensitive.isExempt(at("/health"))).toBe(false);
  });

  it("lets a trailing /* match the bare prefix too", () => {
    expect(policy.isExempt(policy.normalisePath("/static"))).toBe(true);
    expect(policy.isExempt(policy.normalisePath("/STATIC/app.js"))).toBe(true);
    expect(policy.isExempt(policy.normalisePath("/staticky"))).toBe(false);
  });
});

describe("isExempt", () => {
  it.each([
    ["/health", true],
    ["/static/app.js", true],
    ["/static/", true],
    ["/v1/file.json", true],
    ["/v1/fileXjson", false],
    ["/health/deep", false],
    ["/healthz", false],
    ["/api/health", false],
  ])("%s -> %s", (path, exempt) => {
    expect(policy.isExempt(policy.normalisePath(path))).toBe(exempt);
  });
});

describe("plan", () => {
  it("gives the tier's limits and failure policy", () => {
    const p = policy.plan("t_1", "free");
    expect(p).toMatchObject({ tenant: "t_1", tier: "free", failure: "open" });
    expect(p.limits.map((l) => [l.id, l.name, l.limit])).toEqual([
      ["requests:minute", "requests-minute", 100],
      ["requests:day", "requests-day", 1_000],
      ["tokens:day", "tokens-daily", 50_000],
    ]);
    expect(policy.plan("t_2", "closed").failure).toBe("closed");
    expect(() => policy.plan("t_3", "gold")).toThrow(/unknown tier "gold"/);
  });

  it("an override replaces the limit with the same dimension and window, keeping its place", () => {
    const p = policy.plan("t_1", "free", { limits: [{ dimension: "requests", window: "day", limit: 5 }] });
    expect(p.limits.map((l) => [l.id, l.limit])).toEqual([
      ["requests:minute", 100],
      ["requests:day", 5],
      ["tokens:day", 50_000],
    ]);
  });

  it("an override keeps the replaced limit's custom name (the RateLimit-Policy name stays stable)", () => {
    const p = policy.plan("t_1", "free", { limits: [{ dimension: "tokens", window: "day", limit: 10 }] });
    expect(p.limits[2]).toMatchObject({ id: "tokens:day", name: "tokens-daily", limit: 10 });
  });

  it("an override without an amount inherits it (e.g. only switching to shadow)", () => {
    const p = policy.plan("t_1", "free", {
      limits: [{ dimension: "requests", window: "minute", mode: "shadow" }],
    });
    expect(p.limits[0]).toMatchObject({ id: "requests:minute", limit: 100, mode: "shadow", sync: "strict" });
  });

  it("an override with a new dimension or window adds a limit", () => {
    const p = policy.plan("t_1", "free", {
      limits: [
        { dimension: "tokens", window: "minute", limit: 900 },
        { dimension: "requests", window: "bucket:5/s,burst=10" },
      ],
      failure: "closed",
    });
    expect(p.limits.map((l) => [l.id, l.limit])).toEqual([
      ["requests:minute", 100],
      ["requests:day", 1_000],
      ["tokens:day", 50_000],
      ["tokens:minute", 900],
      ["requests:bucket:5/s,burst=10", 10],
    ]);
    expect(p.failure).toBe("closed");
  });

  it("does not change the tier's limits for other tenants", () => {
    policy.plan("t_1", "free", { limits: [{ dimension: "requests", window: "minute", limit: 1 }] });
    expect(policy.plan("t_2", "free").limits[0]!.limit).toBe(100);
  });
});

describe("static tenant overrides", () => {
  it("inherit mode and sync from the tier's limit when they only change the amount", () => {
    const p = compilePolicy(
      policySchema.parse({
        tiers: { free: { limits: [{ window: "day", limit: 10, mode: "shadow", sync: "async" }] } },
        tenants: { a: { tier: "free", overrides: { limits: [{ window: "day", limit: 5 }] } } },
      }),
    );
    expect(p.plan("a", "free", p.policy.tenants.a!.overrides).limits).toMatchObject([
      { id: "requests:day", limit: 5, mode: "shadow", sync: "async" },
    ]);
  });
});
