// End to end in workerd against the loopback test origin: a metered route reserves its token estimate with the
// request's other limits, streams the origin's answer untouched (each SSE chunk reaches the client before the origin
// sends the next), and settles the actual usage (JSON usage, SSE usage chunk, Anthropic events, a cost header) or,
// by the route's refund rules, keeps or refunds the reservation (client abort, origin 5xx, no usage).
import { describe, expect, it, vi } from "vitest";
import type { TokenRulesInput } from "../src/policy/token-rules.ts";
import {
  asTenant,
  FROZEN_AT_MS,
  policyJson,
  quotaStatus,
  type TestWorker,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";
import {
  anthropicStream,
  chatBody,
  DONE,
  JSON_HEADERS,
  openAiChunk,
  openAiJson,
  openAiUsageChunk,
  SSE_HEADERS,
} from "./support/llm.ts";
import {
  cutResponse,
  ORIGIN_MARK,
  ORIGIN_MARK_VALUE,
  recordedSince,
  releaseNextChunk,
  type Script,
  scriptedClosed,
  scriptResponse,
  testOriginUrl,
} from "./support/test-origin.ts";

useGatewayState();

const decoder = new TextDecoder();

function tokenWorker(rules: TokenRulesInput = {}, minuteLimit = 10_000): TestWorker {
  return workerWith({
    ORIGIN_URL: testOriginUrl(),
    QUOTA_POLICY: policyJson({
      tiers: {
        free: {
          limits: [
            { dimension: "requests", window: "minute", limit: 100 },
            { dimension: "tokens", window: "minute", limit: minuteLimit },
            { dimension: "tokens", window: "day", limit: 100_000 },
          ],
        },
      },
      routes: [{ method: "POST", path: "/__loopback/scripted/*", tokens: rules }],
    }),
  });
}

const BODY = chatBody({ max_tokens: 50 });
/** What BODY reserves under the default rules: its bytes / 4, plus its max_tokens. */
const RESERVED = Math.ceil(new TextEncoder().encode(BODY).length / 4) + 50;

async function call(w: TestWorker, script: Script, tenant: string, body = BODY) {
  const id = crypto.randomUUID();
  await scriptResponse(id, script);
  const res = await w.fetch(`/__loopback/scripted/${id}`, {
    method: "POST",
    headers: { "X-Tenant-ID": tenant, "content-type": "application/json" },
    body,
  });
  return { id, res };
}

/** Tokens used in the tenant's minute and day limits, as /quota/status shows them. */
async function tokensUsed(w: TestWorker, tenant: string): Promise<number[]> {
  const s = await quotaStatus(asTenant(tenant), w.fetch);
  return s.limits.filter((l) => l.dimension === "tokens").map((l) => l.used);
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, expected: string): Promise<string> {
  let text = "";
  while (text.length < expected.length) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe("reserve, proxy, settle", () => {
  it("JSON: reserves the estimate with the other limits, forwards the same bytes, settles the usage", async () => {
    const w = tokenWorker();
    const before = (await recordedSince(0)).next;
    const answer = openAiJson({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 });
    const { id, res } = await call(w, { headers: JSON_HEADERS, chunks: [answer] }, "j1");
    expect(res.status).toBe(200);
    expect(res.headers.get(ORIGIN_MARK)).toBe(ORIGIN_MARK_VALUE);
    expect(res.headers.get("X-Quota-Cost")).toBe(`tokens=${RESERVED};reserved`);
    expect(res.headers.get("RateLimit-Policy")).toContain('"tokens-minute";q=10000;w=60;qg-unit="tokens"');
    expect(res.headers.get("RateLimit")).toContain(`"tokens-minute";r=${10_000 - RESERVED};`);
    expect(await res.text()).toBe(answer);
    const sent = (await recordedSince(before)).records.find((r) => r.target.endsWith(id));
    expect(sent?.body).toBe(BODY);
    expect(await tokensUsed(w, "j1")).toEqual([42, 42]);
  });

  it("SSE: each chunk reaches the client before the next is sent; the usage chunk settles", async () => {
    const w = tokenWorker();
    const chunks = [
      openAiChunk("Hel"),
      openAiChunk("lo"),
      openAiUsageChunk({ prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 }),
      DONE,
    ];
    const { id, res } = await call(w, { headers: SSE_HEADERS, chunks, hold: true }, "s1");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("X-Quota-Cost")).toBe(`tokens=${RESERVED};reserved`);
    const reader = res.body!.getReader();
    for (let k = 0; k < chunks.length; k++) {
      expect(await readText(reader, chunks[k]!)).toBe(chunks[k]);
      // Until the stream ends the reservation stands.
      if (k === 0) expect(await tokensUsed(w, "s1")).toEqual([RESERVED, RESERVED]);
      if (k + 1 < chunks.length) await releaseNextChunk(id);
    }
    expect((await reader.read()).done).toBe(true);
    expect(await tokensUsed(w, "s1")).toEqual([22, 22]);
  });

  it("SSE, Anthropic style: input from message_start, output from message_delta", async () => {
    const w = tokenWorker();
    const { res } = await call(w, { headers: SSE_HEADERS, chunks: anthropicStream(25, 15, "Hi!") }, "a1");
    expect(await res.text()).toBe(anthropicStream(25, 15, "Hi!").join(""));
    expect(await tokensUsed(w, "a1")).toEqual([40, 40]);
  });

  it("a cost header named by the policy settles at once and is reported in X-Quota-Cost", async () => {
    const w = tokenWorker({ usageHeader: "X-Usage-Units" });
    const { res } = await call(
      w,
      { headers: { ...JSON_HEADERS, "x-usage-units": "77" }, chunks: [openAiJson()] },
      "h1",
    );
    expect(res.headers.get("X-Quota-Cost")).toBe("tokens=77");
    await res.arrayBuffer();
    expect(await tokensUsed(w, "h1")).toEqual([77, 77]);
  });

  it("weights by model pattern and by input/output, counting what `count` names", async () => {
    const w = tokenWorker({ models: { "gpt-4*": 40 }, weights: { input: 1, output: 3 } });
    const answer = openAiJson({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    const body = chatBody({ model: "gpt-4o", max_tokens: 50 });
    const { res } = await call(w, { headers: JSON_HEADERS, chunks: [answer] }, "m1", body);
    const input = Math.ceil(new TextEncoder().encode(body).length / 4);
    expect(res.headers.get("X-Quota-Cost")).toBe(`tokens=${40 * (input + 3 * 50)};reserved`);
    await res.arrayBuffer();
    expect(await tokensUsed(w, "m1")).toEqual([40 * (10 + 3 * 5), 40 * (10 + 3 * 5)]);
  });
});

describe("refund rules", () => {
  it("client abort mid-stream: the gateway drops the origin; the estimate is kept (onAbort: keep)", async () => {
    const w = tokenWorker();
    const chunks = [openAiChunk("a"), openAiChunk("b"), DONE];
    const { id, res } = await call(w, { headers: SSE_HEADERS, chunks, hold: true }, "ab1");
    const reader = res.body!.getReader();
    expect(await readText(reader, chunks[0]!)).toBe(chunks[0]);
    await reader.cancel("client gone");
    expect(await scriptedClosed(id)).toEqual({ closed: true });
    expect(await tokensUsed(w, "ab1")).toEqual([RESERVED, RESERVED]);
  });

  it("client abort with onAbort: refund gives the reservation back", async () => {
    const w = tokenWorker({ onAbort: "refund" });
    const chunks = [openAiChunk("a"), DONE];
    const { res } = await call(w, { headers: SSE_HEADERS, chunks, hold: true }, "ab2");
    const reader = res.body!.getReader();
    await readText(reader, chunks[0]!);
    await reader.cancel();
    expect(await tokensUsed(w, "ab2")).toEqual([0, 0]);
  });

  it("the origin dies mid-stream: the client's stream errors and onAbort decides", async () => {
    const w = tokenWorker({ onAbort: "refund" });
    const chunks = [openAiChunk("a"), openAiChunk("b"), DONE];
    const { id, res } = await call(w, { headers: SSE_HEADERS, chunks, hold: true }, "cut1");
    const reader = res.body!.getReader();
    await readText(reader, chunks[0]!);
    await cutResponse(id);
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return "ended";
      })(),
    ).rejects.toBeDefined();
    expect(await tokensUsed(w, "cut1")).toEqual([0, 0]);
  });

  it("origin 5xx: refunded by default (X-Quota-Cost: tokens=0), kept with onError: keep", async () => {
    const script: Script = { status: 503, headers: JSON_HEADERS, chunks: ['{"error":"overloaded"}'] };
    const refund = tokenWorker();
    const r1 = await call(refund, script, "e1");
    expect(r1.res.status).toBe(503);
    expect(r1.res.headers.get("X-Quota-Cost")).toBe("tokens=0");
    expect(await r1.res.text()).toBe('{"error":"overloaded"}');
    expect(await tokensUsed(refund, "e1")).toEqual([0, 0]);
    const keep = tokenWorker({ onError: "keep" });
    const r2 = await call(keep, script, "e2");
    expect(r2.res.headers.get("X-Quota-Cost")).toBe(`tokens=${RESERVED}`);
    await r2.res.arrayBuffer();
    expect(await tokensUsed(keep, "e2")).toEqual([RESERVED, RESERVED]);
  });

  it("no usage in the response: the estimate is kept by default, refunded with onMissing: refund", async () => {
    const script: Script = { headers: JSON_HEADERS, chunks: [openAiJson()] };
    const keep = tokenWorker();
    await (await call(keep, script, "n1")).res.arrayBuffer();
    expect(await tokensUsed(keep, "n1")).toEqual([RESERVED, RESERVED]);
    const refund = tokenWorker({ onMissing: "refund" });
    await (await call(refund, script, "n2")).res.arrayBuffer();
    expect(await tokensUsed(refund, "n2")).toEqual([0, 0]);
  });
});

describe("over the limit", () => {
  it("an overshoot is debited; remaining shows 0 and the tenant is refused until the window has room", async () => {
    const w = tokenWorker({}, 1_000);
    const answer = openAiJson({ prompt_tokens: 500, completion_tokens: 1_000, total_tokens: 1_500 });
    const first = await call(w, { headers: JSON_HEADERS, chunks: [answer] }, "o1");
    expect(first.res.status).toBe(200);
    await first.res.arrayBuffer();
    const status = await quotaStatus(asTenant("o1"), w.fetch);
    expect(status.limits.find((l) => l.name === "tokens-minute")).toMatchObject({
      used: 1_000,
      remaining: 0,
    });
    expect(status.limits.find((l) => l.name === "tokens-day")).toMatchObject({ used: 1_500 });

    const before = (await recordedSince(0)).next;
    const second = await call(w, { headers: JSON_HEADERS, chunks: [answer] }, "o1");
    expect(second.res.status).toBe(429);
    const problem = (await second.res.json()) as Record<string, unknown>;
    expect(problem["violated-policies"]).toEqual(["tokens-minute"]);
    expect(second.res.headers.get("RateLimit")).toContain('"tokens-minute";r=0;');
    expect((await recordedSince(before)).records).toEqual([]);

    vi.setSystemTime(FROZEN_AT_MS + 60_000);
    const third = await call(w, { headers: JSON_HEADERS, chunks: [openAiJson()] }, "o1");
    expect(third.res.status).toBe(200);
    await third.res.arrayBuffer();
  });

  it("cutOff: a stream past the tenant's budget ends with an SSE error event and the origin is dropped", async () => {
    const w = tokenWorker({ cutOff: true, estimate: { output: 10 } }, 300);
    const piece = "x".repeat(400); // 100 tokens at 4 bytes per token
    const chunks = [openAiChunk(piece), openAiChunk(piece), openAiChunk(piece), openAiChunk(piece), DONE];
    const body = chatBody({});
    const { id, res } = await call(w, { headers: SSE_HEADERS, chunks, hold: true }, "c1", body);
    const input = Math.ceil(new TextEncoder().encode(body).length / 4);
    // Budget: the 300 the tenant had. Counted: input + 100 per chunk; the chunk that passes the budget is the last.
    const last = Math.floor((300 - input) / 100);
    expect(last).toBeLessThan(3);
    const reader = res.body!.getReader();
    let text = await readText(reader, chunks[0]!);
    for (let k = 1; k <= last; k++) {
      await releaseNextChunk(id);
      text += await readText(reader, chunks[k]!);
    }
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    const error = {
      type: "quota_exceeded",
      code: "quota_exceeded",
      message: "the tenant's token quota ran out during this response; the gateway ended the stream",
    };
    expect(text).toBe(
      `${chunks.slice(0, last + 1).join("")}event: error\ndata: ${JSON.stringify({ error })}\n\n`,
    );
    expect(await scriptedClosed(id)).toEqual({ closed: true });
    const status = await quotaStatus(asTenant("c1"), w.fetch);
    expect(status.limits.find((l) => l.name === "tokens-minute")).toMatchObject({ used: 300, remaining: 0 });
    expect(status.limits.find((l) => l.name === "tokens-day")).toMatchObject({
      used: input + 100 * (last + 1),
    });
  });
});
