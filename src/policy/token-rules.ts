// Token rules of a route (`routes[].tokens`): the zod schema, and the pure arithmetic that turns a request's estimate
// and the origin's reported usage into units of the route's token dimension.
import { z } from "zod";
import { compilePathPattern } from "./path-pattern.ts";

/** Largest usage figure (tokens, or a cost header's units) believed; anything above is treated as no usage. */
export const MAX_USAGE = 1e9;
/** Largest units one request is priced at (weights x usage), far below 2^53 so counters stay exact. */
export const MAX_UNITS = 1e12;

const weight = z.number().positive().max(1_000);
const what = z.enum(["refund", "keep"]);

export const tokenRulesSchema = z
  .strictObject({
    /** The dimension reserved before proxying and settled from the response. */
    dimension: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "use 1-64 letters, digits, '_', '.' or '-'")
      .default("tokens"),
    estimate: z
      .strictObject({
        /** The prompt is estimated at one token per this many bytes of request body. */
        bytesPerToken: z.number().positive().max(1_024).default(4),
        /** false: every request reserves `default` (APIs whose body says nothing of their cost). */
        fromBody: z.boolean().default(true),
        /** Output tokens assumed when the body sets no `max_tokens` / `max_completion_tokens`. */
        output: z.number().int().min(0).max(MAX_USAGE).default(1_024),
        /** Units reserved when the body gives no estimate (no body, not JSON, over `maxBodyBytes`). */
        default: z.number().int().positive().max(MAX_UNITS).default(2_048),
        /** The most units one request reserves, whatever its body asks for. */
        max: z.number().int().positive().max(MAX_UNITS).default(100_000),
        /** Request bodies up to this size are read to estimate, then forwarded as the same bytes. */
        maxBodyBytes: z
          .number()
          .int()
          .min(1_024)
          .max(16 * 1024 * 1024)
          .default(1024 * 1024),
        /** A larger body: `default` reserves the default estimate (and streams the body on), `reject` answers 413. */
        oversize: z.enum(["default", "reject"]).default("default"),
      })
      .prefault({}),
    /** Which figure of the usage counts: prompt, completion, or both. */
    count: z.enum(["input", "output", "total"]).default("total"),
    /** Units per input (prompt) and output (completion) token. */
    weights: z.strictObject({ input: weight.default(1), output: weight.default(1) }).prefault({}),
    /** Multiplier per model (the request body's `model`), by pattern (`*` = any characters); first match wins. */
    models: z.record(z.string().min(1).max(128), weight).default({}),
    /** An origin response header carrying the request's cost in units (rows, bytes, credits); it takes precedence. */
    usageHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, "a header name")
      .optional(),
    /** Origin answered an error (status >= 400) without usage, or could not be reached. */
    onError: what.default("refund"),
    /** The stream ended early (client gone, origin cut off) before the usage arrived. */
    onAbort: what.default("keep"),
    /** The response ended without a usage the gateway could read. */
    onMissing: what.default("keep"),
    /** Cut an SSE stream once its counted tokens pass what the tenant has left (ends with an SSE error event). */
    cutOff: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.estimate.default > r.estimate.max)
      ctx.addIssue({
        code: "custom",
        path: ["estimate", "default"],
        message: `must not exceed estimate.max (${r.estimate.max})`,
      });
  });

export type TokenRulesInput = z.input<typeof tokenRulesSchema>;
export type TokenRules = z.output<typeof tokenRulesSchema>;
/** What happens to a reservation the response cannot settle. */
export type RefundRule = z.output<typeof what>;

/** Token figures as an origin reports them (or as estimated). Missing figures are undefined. */
export interface TokenUsage {
  input?: number | undefined;
  output?: number | undefined;
  total?: number | undefined;
}

export interface CompiledTokenRules extends TokenRules {
  /** The multiplier of a model (1 when no pattern matches or no model is named). */
  modelWeight(model: string | undefined): number;
}

export function compileTokenRules(rules: TokenRules): CompiledTokenRules {
  const models = Object.entries(rules.models).map(([p, w]) => ({ re: compilePathPattern(p), w }));
  return {
    ...rules,
    modelWeight: (model) => (model === undefined ? 1 : (models.find((m) => m.re.test(model))?.w ?? 1)),
  };
}

// Weights may be fractions: a product like 0.1 x 3 x 10 must not round up past 3 for a stray 1e-15.
const units = (x: number) => Math.min(MAX_UNITS, Math.max(0, Math.ceil(x - 1e-9)));

/**
 * Units of a usage under the rules: model weight x (input weight x input + output weight x output), counting only
 * the figures `count` names. A usage that gives only a total (no split) is priced at the larger weight. Null when the
 * figures `count` needs are missing.
 */
export function priceUsage(rules: TokenRules, modelWeight: number, u: TokenUsage): number | null {
  const { input, output, total } = u;
  const wi = rules.weights.input;
  const wo = rules.weights.output;
  if (rules.count === "input") return input === undefined ? null : units(modelWeight * wi * input);
  if (rules.count === "output") return output === undefined ? null : units(modelWeight * wo * output);
  if (input !== undefined && output !== undefined) return units(modelWeight * (wi * input + wo * output));
  if (total !== undefined) return units(modelWeight * Math.max(wi, wo) * total);
  return null;
}

/** What a request reserves: its priced estimate, at least 1 (so its token limits are part of the decision and can be
 * settled) and at most `estimate.max`. */
export function reservationUnits(rules: TokenRules, modelWeight: number, estimate: TokenUsage): number {
  const priced = priceUsage(rules, modelWeight, estimate) ?? rules.estimate.default;
  return Math.max(1, Math.min(rules.estimate.max, priced));
}

/** How a metered response ended, as far as its cost goes. */
export type SettleOutcome =
  /** The origin reported the usage (body or cost header), priced in units. */
  | { kind: "usage"; units: number }
  /** The gateway cut the stream at the tenant's budget, having counted `units`. */
  | { kind: "cut"; units: number }
  /** The origin answered an error status without usage, or could not be reached. */
  | { kind: "error" }
  /** The stream ended early (client gone, origin cut off) before a usage arrived. */
  | { kind: "abort" }
  /** The response ended without a usage the gateway could read. */
  | { kind: "missing" };

/** Units a request is charged in the end: what was counted, or by its route's rule the reservation or nothing. */
export function chargedUnits(rules: TokenRules, reserved: number, o: SettleOutcome): number {
  switch (o.kind) {
    case "usage":
    case "cut":
      return o.units;
    case "error":
      return rules.onError === "keep" ? reserved : 0;
    case "abort":
      return rules.onAbort === "keep" ? reserved : 0;
    case "missing":
      return rules.onMissing === "keep" ? reserved : 0;
  }
}
