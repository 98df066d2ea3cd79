// Token rules: the schema (defaults, strictness, cross-field checks, a route's cost must not also set the token
// dimension) and the pricing arithmetic (what counts, weights, model patterns, refund rules).
import { describe, expect, it } from "vitest";
import { compilePolicy } from "./compiled-policy.ts";
import { policySchema } from "./policy-schema.ts";
import {
  chargedUnits,
  compileTokenRules,
  priceUsage,
  reservationUnits,
  tokenRulesSchema,
} from "./token-rules.ts";

const rules = (input: unknown = {}) => compileTokenRules(tokenRulesSchema.parse(input));

describe("token rules schema", () => {
  it("fills every default", () => {
    expect(tokenRulesSchema.parse({})).toEqual({
      dimension: "tokens",
      estimate: {
        bytesPerToken: 4,
        fromBody: true,
        output: 1_024,
        default: 2_048,
        max: 100_000,
        maxBodyBytes: 1_048_576,
        oversize: "default",
      },
      count: "total",
      weights: { input: 1, output: 1 },
      models: {},
      onError: "refund",
      onAbort: "keep",
      onMissing: "keep",
      cutOff: false,
    });
  });

  it("refuses unknown keys, bad values and a default above the max, naming the field", () => {
    const issues = (input: unknown) =>
      tokenRulesSchema.safeParse(input).error?.issues.map((i) => i.path.join("."));
    expect(issues({ estimat: {} })).toEqual([""]);
    expect(issues({ count: "all" })).toEqual(["count"]);
    expect(issues({ weights: { input: 0 } })).toEqual(["weights.input"]);
    expect(issues({ models: { "gpt-4*": -1 } })).toEqual(["models.gpt-4*"]);
    expect(issues({ onAbort: "maybe" })).toEqual(["onAbort"]);
    expect(issues({ estimate: { default: 10, max: 5 } })).toEqual(["estimate.default"]);
    expect(issues({ estimate: { maxBodyBytes: 100 * 1024 * 1024 } })).toEqual(["estimate.maxBodyBytes"]);
  });

  it("a route may not price its token dimension both ways", () => {
    const r = policySchema.safeParse({
      tiers: { free: { limits: [{ window: "minute", limit: 1 }] } },
      routes: [{ path: "/v1/chat/*", cost: { tokens: 40 }, tokens: {} }],
    });
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(["routes.0.cost.tokens"]);
  });

  it("a route's pricing carries its compiled rules; its cost keeps the default request", () => {
    const p = compilePolicy(
      policySchema.parse({
        tiers: { free: { limits: [{ window: "minute", limit: 1 }] } },
        routes: [{ method: "POST", path: "/v1/chat/*", tokens: { models: { "gpt-4*": 40 } } }],
      }),
    );
    const chat = p.route("POST", p.normalisePath("/v1/chat/completions"));
    expect(chat.cost).toEqual({ requests: 1 });
    expect(chat.tokens?.modelWeight("gpt-4o")).toBe(40);
    expect(chat.tokens?.modelWeight("o3")).toBe(1);
    expect(p.route("GET", p.normalisePath("/v1/chat/completions")).tokens).toBeUndefined();
  });
});

describe("pricing", () => {
  it("counts what `count` names, with input and output weights and the model's multiplier", () => {
    const u = { input: 10, output: 5, total: 15 };
    expect(priceUsage(rules(), 1, u)).toBe(15);
    expect(priceUsage(rules({ count: "input" }), 2, u)).toBe(20);
    expect(priceUsage(rules({ count: "output", weights: { output: 3 } }), 1, u)).toBe(15);
    expect(priceUsage(rules({ weights: { input: 0.5, output: 2 } }), 40, u)).toBe(40 * (5 + 10));
    // Only a total: priced at the larger weight; what `count` needs missing: no price.
    expect(priceUsage(rules({ weights: { output: 3 } }), 1, { total: 10 })).toBe(30);
    expect(priceUsage(rules({ count: "output" }), 1, { input: 3 })).toBeNull();
    // Fractional weights do not round a whole product up.
    expect(priceUsage(rules({ weights: { input: 0.1, output: 0.1 } }), 10, { input: 3, output: 0 })).toBe(3);
  });

  it("reserves at least 1 and at most estimate.max", () => {
    expect(reservationUnits(rules(), 1, { input: 0, output: 0 })).toBe(1);
    expect(
      reservationUnits(rules({ estimate: { max: 500, default: 100 } }), 40, { input: 100, output: 100 }),
    ).toBe(500);
  });

  it("charges the usage, or by the refund rules the reservation or nothing", () => {
    const keepAll = rules({ onError: "keep", onAbort: "keep", onMissing: "keep" });
    const refundAll = rules({ onError: "refund", onAbort: "refund", onMissing: "refund" });
    for (const kind of ["error", "abort", "missing"] as const) {
      expect(chargedUnits(keepAll, 70, { kind })).toBe(70);
      expect(chargedUnits(refundAll, 70, { kind })).toBe(0);
    }
    expect(chargedUnits(refundAll, 70, { kind: "usage", units: 90 })).toBe(90);
    expect(chargedUnits(keepAll, 70, { kind: "cut", units: 130 })).toBe(130);
  });
});
