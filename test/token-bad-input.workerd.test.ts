// End to end in workerd, bad input on a metered route: a request body the estimate cannot trust is a 400 (or, over
// the read bound, the default estimate or a 413) and never reaches the origin; a usage the gateway cannot trust (bad
// figures, no usage, an overlong SSE line) settles as missing, never as a number; nothing is a 5xx.
import { describe, expect, it } from "vitest";
import type { TokenRulesInput } from "../src/policy/token-rules.ts";
import { expectIssues } from "./support/admin.ts";
import {
  asTenant,
  expectProblem,
  policyJson,
  quotaStatus,
  type TestWorker,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";
import {
  chatBody,
  DONE,
  JSON_HEADERS,
  openAiChunk,
  openAiJson,
  openAiUsageChunk,
  SSE_HEADERS,
} from "./support/llm.ts";
import { recordedSince, type Script, scriptResponse, testOriginUrl } from "./support/test-origin.ts";

useGatewayState();

function tokenWorker(rules: TokenRulesInput = {}): TestWorker {
  return workerWith({
    ORIGIN_URL: testOriginUrl(),
    QUOTA_POLICY: policyJson({
      tiers: { free: { limits: [{ dimension: "tokens", window: "minute", limit: 100_000 }] } },
      routes: [{ method: "POST", path: "/__loopback/scripted/*", tokens: rules }],
    }),
  });
}

const OK: Script = {
  headers: JSON_HEADERS,
  chunks: [openAiJson({ prompt_tokens: 1, completion_tokens: 1 })],
};

async function post(
  w: TestWorker,
  body: BodyInit,
  tenant: string,
  script = OK,
  type = "application/json",
  headers: Record<string, string> = {},
) {
  const id = crypto.randomUUID();
  await scriptResponse(id, script);
  return w.fetch(`/__loopback/scripted/${id}`, {
    method: "POST",
    headers: { "X-Tenant-ID": tenant, "content-type": type, ...headers },
    body,
  });
}

const tokensUsed = async (w: TestWorker, tenant: string) =>
  (await quotaStatus(asTenant(tenant), w.fetch)).limits.find((l) => l.dimension === "tokens")?.used;

const BODY = chatBody({ max_tokens: 50 });
const RESERVED = Math.ceil(new TextEncoder().encode(BODY).length / 4) + 50;

describe("request bodies the estimate refuses", () => {
  it("malformed JSON is a 400 that never reaches the origin", async () => {
    const w = tokenWorker();
    const before = (await recordedSince(0)).next;
    for (const body of ['{"model":', '{"max_tokens": NaN}', "\xff\xfe{}"]) {
      const p = await expectProblem(await post(w, body, "bad-json"), 400);
      expect(p.type).toBe("urn:quotagate:problem:bad-request");
      expect(p.detail).not.toContain("NaN");
    }
    expect((await recordedSince(before)).records).toEqual([]);
    expect(await tokensUsed(w, "bad-json")).toBe(0);
  });

  it("max_tokens negative, a string, fractional, huge or not a number is a 400 naming the field", async () => {
    const w = tokenWorker();
    const before = (await recordedSince(0)).next;
    for (const v of [-1, "NaN", "12", 1.5, 1e12, true, {}]) {
      await expectIssues(await post(w, chatBody({ max_tokens: v }), "bad-max"), ["max_tokens"]);
      await expectIssues(await post(w, chatBody({ max_completion_tokens: v }), "bad-max"), [
        "max_completion_tokens",
      ]);
    }
    await expectIssues(await post(w, chatBody({ model: 42 }), "bad-max"), ["model"]);
    await expectIssues(await post(w, "[1,2]", "bad-max"), [""]);
    expect((await recordedSince(before)).records).toEqual([]);
  });

  it("a body over the read bound reserves the default estimate and reaches the origin as the same bytes", async () => {
    const w = tokenWorker({ estimate: { maxBodyBytes: 1024, default: 900 } });
    const big = chatBody({ max_tokens: 5, pad: "p".repeat(5_000) });
    const before = (await recordedSince(0)).next;
    const sized = await post(w, big, "big");
    expect(sized.headers.get("X-Quota-Cost")).toBe("tokens=900;reserved");
    await sized.arrayBuffer();
    // Streamed without a length: read up to the bound, then the rest follows.
    const parts = [big.slice(0, 700), big.slice(700, 1_500), big.slice(1_500)];
    const streamed = await post(
      w,
      new ReadableStream({
        pull(c) {
          const next = parts.shift();
          if (next === undefined) c.close();
          else c.enqueue(new TextEncoder().encode(next));
        },
      }),
      "big",
    );
    expect(streamed.headers.get("X-Quota-Cost")).toBe("tokens=900;reserved");
    await streamed.arrayBuffer();
    const got = (await recordedSince(before)).records.map((r) => r.body);
    expect(got).toEqual([big, big]);
  });

  it("oversize: reject answers 413 instead", async () => {
    const w = tokenWorker({ estimate: { maxBodyBytes: 1024, oversize: "reject" } });
    const p = await expectProblem(await post(w, chatBody({ pad: "p".repeat(5_000) }), "big-413"), 413);
    expect(p.type).toBe("urn:quotagate:problem:payload-too-large");
  });

  it("a body that is not JSON, or is sent compressed, reserves the default estimate", async () => {
    const w = tokenWorker({ estimate: { default: 321 } });
    const res = await post(w, "rows=5", "plain", OK, "text/plain");
    expect(res.headers.get("X-Quota-Cost")).toBe("tokens=321;reserved");
    await res.arrayBuffer();
    const gz = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]);
    const compressed = await post(w, gz, "gz", OK, "application/json", { "content-encoding": "gzip" });
    expect(compressed.headers.get("X-Quota-Cost")).toBe("tokens=321;reserved");
    await compressed.arrayBuffer();
  });
});

describe("usage the gateway cannot trust settles as missing (onMissing: keep)", () => {
  it("negative, non-numeric, fractional or absurd figures", async () => {
    const w = tokenWorker();
    const bad = [
      { prompt_tokens: -5, completion_tokens: 3 },
      { prompt_tokens: "5", completion_tokens: 3 },
      { prompt_tokens: 5, completion_tokens: 2.5 },
      { prompt_tokens: 1e15, completion_tokens: 3 },
      { prompt_tokens: null, completion_tokens: null },
    ];
    for (const [i, usage] of bad.entries()) {
      const res = await post(w, BODY, `bad-usage-${i}`, {
        headers: JSON_HEADERS,
        chunks: [openAiJson(usage)],
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(await tokensUsed(w, `bad-usage-${i}`)).toBe(RESERVED);
    }
  });

  it("a cost header that is not a whole number", async () => {
    const w = tokenWorker({ usageHeader: "x-cost", onMissing: "refund" });
    for (const value of ["-3", "abc", "1e3", "99999999999"]) {
      const res = await post(w, BODY, `bad-header-${value}`, {
        headers: { ...JSON_HEADERS, "x-cost": value },
        chunks: ['{"rows":3}'],
      });
      expect(res.headers.get("X-Quota-Cost")).toBe(`tokens=${RESERVED};reserved`);
      await res.arrayBuffer();
      expect(await tokensUsed(w, `bad-header-${value}`)).toBe(0);
    }
  });

  it("an SSE stream that never sends usage", async () => {
    const w = tokenWorker();
    const res = await post(w, BODY, "no-usage", { headers: SSE_HEADERS, chunks: [openAiChunk("hi"), DONE] });
    await res.arrayBuffer();
    expect(await tokensUsed(w, "no-usage")).toBe(RESERVED);
  });

  it("an SSE line past the line bound is dropped, not buffered; the usage after it still settles", async () => {
    const w = tokenWorker();
    const long = `: ${"z".repeat(200_000)}\n\n`;
    const usage = openAiUsageChunk({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
    const res = await post(w, BODY, "long-line", { headers: SSE_HEADERS, chunks: [long, usage, DONE] });
    expect(await res.text()).toBe(long + usage + DONE);
    expect(await tokensUsed(w, "long-line")).toBe(11);
  });
});
