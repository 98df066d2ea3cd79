// End to end in workerd with the bundled policy and the demo origin (what `npm run dev` serves): a chat completion
// in JSON and one streamed reserve their estimate and settle the demo's deterministic usage; /quota/status and the
// admin usage listing show the token dimension.
import { describe, expect, it } from "vitest";
import { usageResponseSchema } from "../src/http/admin/schemas.ts";
import { adminJson, settle } from "./support/admin.ts";
import { asTenant, gateway, quotaStatus, useGatewayState } from "./support/gateway.ts";

useGatewayState();

const chat = (tenant: string, fields: Record<string, unknown>) =>
  gateway("/v1/chat/completions", {
    method: "POST",
    headers: { "X-Tenant-ID": tenant, "content-type": "application/json" },
    body: JSON.stringify({ model: "demo-mini", messages: [{ role: "user", content: "Hello!" }], ...fields }),
  });

const tokens = async (tenant: string) =>
  (await quotaStatus(asTenant(tenant))).limits
    .filter((l) => l.dimension === "tokens")
    .map(({ name, limit, used }) => ({ name, limit, used }));

describe("the demo's chat completions under the bundled policy", () => {
  it("a JSON call and a streamed call settle the demo's usage (prompt 6 + completion max_tokens)", async () => {
    expect(await tokens("demo")).toEqual([
      { name: "tokens-minute", limit: 10_000, used: 0 },
      { name: "tokens-day", limit: 100_000, used: 0 },
    ]);
    const json = await chat("demo", { max_tokens: 5 });
    expect(json.status).toBe(200);
    expect(json.headers.get("X-Quota-Cost")).toMatch(/^tokens=\d+;reserved$/);
    expect(json.headers.get("RateLimit")).toContain('"tokens-minute";r=');
    const answer = (await json.json()) as { usage: unknown };
    expect(answer.usage).toEqual({ prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 });
    expect((await tokens("demo")).map((t) => t.used)).toEqual([11, 11]);

    const streamed = await chat("demo", {
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamed.headers.get("content-type")).toBe("text/event-stream");
    const text = await streamed.text();
    expect(text).toContain('"usage":{"prompt_tokens":6,"completion_tokens":3,"total_tokens":9}');
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect((await tokens("demo")).map((t) => t.used)).toEqual([20, 20]);

    await settle();
    const usage = await adminJson(gateway, "/admin/quota/usage?dimension=tokens", usageResponseSchema);
    expect(usage.dimension).toBe("tokens");
    expect(usage.tenants).toEqual({ demo: 20 });
  });

  it("a stream without include_usage keeps its reservation (the default onMissing)", async () => {
    const res = await chat("demo-nu", { max_tokens: 3, stream: true });
    const reserved = Number(/^tokens=(\d+);reserved$/.exec(res.headers.get("X-Quota-Cost") ?? "")?.[1]);
    await res.text();
    expect((await tokens("demo-nu")).map((t) => t.used)).toEqual([reserved, reserved]);
  });
});
