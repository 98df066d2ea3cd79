// What a metered request is expected to cost, from its body: the prompt by its size, the completion by its
// `max_tokens` / `max_completion_tokens`, priced by the route's token rules. Bad fields are a 400, never a guess.
import { z } from "zod";
import { describeIssues, QuotaGateError } from "../../core/errors.ts";
import { type CompiledTokenRules, MAX_USAGE, reservationUnits } from "../../policy/token-rules.ts";
import type { BodyRead } from "./request-body.ts";

const tokenCount = z
  .number()
  .int("must be a whole number of tokens")
  .min(0, "must not be negative")
  .max(MAX_USAGE, `must be at most ${MAX_USAGE}`);

/** The fields of an OpenAI- or Anthropic-style request that price it; everything else is the origin's business. */
const requestFields = z.looseObject({
  model: z.string().max(256).optional(),
  max_tokens: tokenCount.nullable().optional(),
  max_completion_tokens: tokenCount.nullable().optional(),
});

export interface RequestEstimate {
  /** Units reserved in the route's token dimension (at least 1, at most `estimate.max`). */
  units: number;
  /** Estimated prompt tokens (0 when the body gave no estimate). */
  inputTokens: number;
  /** The model's multiplier. */
  modelWeight: number;
  /** How the estimate was made, for logs and tests. */
  basis: "body" | "default";
}

const isJson = (contentType: string | null) =>
  contentType === null || /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType.trim());

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    // The parser's message quotes the body: say only what is wrong.
    throw new QuotaGateError("bad_request", "the request body is not valid JSON (UTF-8)");
  }
}

/** The estimate of a request whose body was read by readBounded; throws 400 (bad JSON or fields) or 413. A body
 * sent compressed (Content-Encoding) is not read: it gets the default estimate. */
export function estimateRequest(
  rules: CompiledTokenRules,
  body: BodyRead,
  headers: Headers,
): RequestEstimate {
  const contentType = headers.get("content-type");
  const encoding = headers.get("content-encoding");
  const fallback: RequestEstimate = {
    units: rules.estimate.default,
    inputTokens: 0,
    modelWeight: 1,
    basis: "default",
  };
  if (body.kind === "oversize") {
    if (rules.estimate.oversize === "reject")
      throw new QuotaGateError(
        "payload_too_large",
        `the request body is larger than ${rules.estimate.maxBodyBytes} bytes, the most this route reads to estimate its cost`,
      );
    return fallback;
  }
  const encoded = encoding !== null && encoding.trim().toLowerCase() !== "identity";
  if (
    !rules.estimate.fromBody ||
    body.kind === "none" ||
    body.bytes.length === 0 ||
    encoded ||
    !isJson(contentType)
  )
    return fallback;
  const parsed = requestFields.safeParse(parseJson(body.bytes));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new QuotaGateError("validation_failed", `invalid request body: ${describeIssues(issues)}`, {
      issues,
    });
  }
  const f = parsed.data;
  const asked = Math.max(f.max_tokens ?? -1, f.max_completion_tokens ?? -1);
  const inputTokens = Math.ceil(body.bytes.length / rules.estimate.bytesPerToken);
  const modelWeight = rules.modelWeight(f.model);
  const units = reservationUnits(rules, modelWeight, {
    input: inputTokens,
    output: asked >= 0 ? asked : rules.estimate.output,
  });
  return { units, inputTokens, modelWeight, basis: "body" };
}
